import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { REFRESH_COOKIE, refreshCookieFrom, request, STRONG_PASSWORD } from "../helpers/http.ts";
import { startTestServer, type TestServer } from "../helpers/test-server.ts";

const NEW_PASSWORD = "an entirely different passphrase 7";

describe("sessions, logout-all, password change", () => {
  let server: TestServer;
  const login = async (username: string, password = STRONG_PASSWORD, ua = "test-agent") => {
    const res = await request(`${server.url}/auth/login`, {
      method: "POST",
      json: { username, password },
      headers: { "user-agent": ua },
    });
    assert.equal(res.status, 200, res.text);
    return { access: (res.body as { access_token: string }).access_token, cookie: refreshCookieFrom(res.headers)! };
  };
  const bearer = (access: string) => ({ authorization: `Bearer ${access}` });
  const refresh = (cookie: string) =>
    request(`${server.url}/auth/refresh`, {
      method: "POST",
      json: {},
      headers: { cookie: `${REFRESH_COOKIE}=${cookie}` },
    });

  before(async () => {
    server = await startTestServer();
    for (const username of ["sam", "eve"]) {
      const res = await request(`${server.url}/auth/register`, {
        method: "POST",
        json: { username, password: STRONG_PASSWORD },
      });
      assert.equal(res.status, 201);
    }
  });
  after(() => server.close());

  it("lists live sessions with the contract's fields and marks the current one", async () => {
    const a = await login("sam", STRONG_PASSWORD, "browser-a");
    await login("sam", STRONG_PASSWORD, "browser-b");
    const res = await request(`${server.url}/auth/sessions`, { headers: bearer(a.access) });
    assert.equal(res.status, 200);
    const sessions = (res.body as { sessions: Record<string, unknown>[] }).sessions;
    assert.ok(sessions.length >= 2);
    for (const s of sessions) {
      assert.deepEqual(Object.keys(s).sort(), [
        "created_at",
        "current",
        "expires_at",
        "id",
        "ip",
        "last_used_at",
        "user_agent",
      ]);
    }
    assert.equal(sessions.filter((s) => s["current"] === true).length, 1);
    assert.equal(sessions.find((s) => s["current"])?.["user_agent"], "browser-a");
  });

  it("DELETE /auth/sessions/:id ends one session; another user's session is 404", async () => {
    const a = await login("sam");
    const b = await login("sam");
    const other = await login("eve");
    const list = await request(`${server.url}/auth/sessions`, { headers: bearer(b.access) });
    const bId = (list.body as { sessions: { id: string; current: boolean }[] }).sessions.find((s) => s.current)!.id;
    const del = await request(`${server.url}/auth/sessions/${bId}`, { method: "DELETE", headers: bearer(a.access) });
    assert.equal(del.status, 204);
    assert.equal((await refresh(b.cookie)).status, 401);
    assert.equal((await request(`${server.url}/auth/me`, { headers: bearer(b.access) })).status, 401);

    const eveList = await request(`${server.url}/auth/sessions`, { headers: bearer(other.access) });
    const eveId = (eveList.body as { sessions: { id: string }[] }).sessions[0]!.id;
    const foreign = await request(`${server.url}/auth/sessions/${eveId}`, {
      method: "DELETE",
      headers: bearer(a.access),
    });
    assert.equal(foreign.status, 404);
    assert.equal((foreign.body as { error: string }).error, "not_found");
    assert.equal(
      (await request(`${server.url}/auth/me`, { headers: bearer(other.access) })).status,
      200,
      "eve's session survives",
    );
  });

  it("logout-all ends every session of the user", async () => {
    const a = await login("sam");
    const b = await login("sam");
    const res = await request(`${server.url}/auth/logout-all`, { method: "POST", json: {}, headers: bearer(a.access) });
    assert.equal(res.status, 204);
    assert.equal((await refresh(a.cookie)).status, 401);
    assert.equal((await refresh(b.cookie)).status, 401);
    assert.equal((await request(`${server.url}/auth/me`, { headers: bearer(b.access) })).status, 401);
  });

  it("logout-all without a bearer token is 401 with a bare Bearer challenge", async () => {
    const res = await request(`${server.url}/auth/logout-all`, { method: "POST", json: {} });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get("www-authenticate"), 'Bearer realm="gatehouse"');
  });

  it("password change needs the current password, applies the policy, and ends every other session", async () => {
    const keep = await login("sam");
    const other = await login("sam");
    const wrong = await request(`${server.url}/auth/password`, {
      method: "POST",
      json: { current_password: "not the password at all", new_password: NEW_PASSWORD },
      headers: bearer(keep.access),
    });
    assert.equal(wrong.status, 401);
    assert.equal((wrong.body as { error: string }).error, "invalid_credentials");
    const weak = await request(`${server.url}/auth/password`, {
      method: "POST",
      json: { current_password: STRONG_PASSWORD, new_password: "short" },
      headers: bearer(keep.access),
    });
    assert.equal(weak.status, 400);
    assert.equal((weak.body as { error: string }).error, "invalid_password");
    const ok = await request(`${server.url}/auth/password`, {
      method: "POST",
      json: { current_password: STRONG_PASSWORD, new_password: NEW_PASSWORD },
      headers: bearer(keep.access),
    });
    assert.equal(ok.status, 204);
    assert.equal((await refresh(other.cookie)).status, 401, "other sessions ended");
    assert.equal(
      (await request(`${server.url}/auth/me`, { headers: bearer(keep.access) })).status,
      200,
      "this session stays",
    );
    const oldLogin = await request(`${server.url}/auth/login`, {
      method: "POST",
      json: { username: "sam", password: STRONG_PASSWORD },
    });
    assert.equal(oldLogin.status, 401);
    await login("sam", NEW_PASSWORD);
  });

  it("disabling a user ends refresh and bearer access at once", async () => {
    const eve = await login("eve");
    const user = await server.auth.store.findUserByUsername("eve");
    await server.auth.service.setUserDisabled(user!.id, true);
    assert.equal((await refresh(eve.cookie)).status, 401);
    assert.equal((await request(`${server.url}/auth/me`, { headers: bearer(eve.access) })).status, 401);
    const relogin = await request(`${server.url}/auth/login`, {
      method: "POST",
      json: { username: "eve", password: STRONG_PASSWORD },
    });
    assert.equal(relogin.status, 401);
    assert.equal((relogin.body as { error: string }).error, "invalid_credentials");
  });
});
