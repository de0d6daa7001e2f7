import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ManualClock } from "../../src/core/clock.ts";
import { REFRESH_COOKIE, refreshCookieFrom, request, STRONG_PASSWORD } from "../helpers/http.ts";
import { startTestServer, type TestServer } from "../helpers/test-server.ts";

const DAY = 86_400_000;

async function login(server: TestServer, username: string) {
  const res = await request(`${server.url}/auth/login`, {
    method: "POST",
    json: { username, password: STRONG_PASSWORD },
  });
  assert.equal(res.status, 200, res.text);
  return { access: (res.body as { access_token: string }).access_token, cookie: refreshCookieFrom(res.headers)! };
}

function refresh(server: TestServer, cookie: string) {
  return request(`${server.url}/auth/refresh`, {
    method: "POST",
    json: {},
    headers: { cookie: `${REFRESH_COOKIE}=${cookie}` },
  });
}

describe("refresh rotation, reuse detection, lifetimes", () => {
  const clock = new ManualClock();
  let server: TestServer;
  before(async () => {
    server = await startTestServer({
      clock,
      refreshGraceSeconds: 5,
      refreshIdleSeconds: 7 * 86_400,
      refreshAbsoluteSeconds: 30 * 86_400,
    });
    const res = await request(`${server.url}/auth/register`, {
      method: "POST",
      json: { username: "rotor", password: STRONG_PASSWORD },
    });
    assert.equal(res.status, 201);
  });
  after(() => server.close());

  it("inside the grace window, the old token yields the same successor again", async () => {
    const { cookie } = await login(server, "rotor");
    const first = await refresh(server, cookie);
    clock.advance(2000);
    const again = await refresh(server, cookie);
    assert.equal(first.status, 200);
    assert.equal(again.status, 200);
    assert.equal(refreshCookieFrom(again.headers), refreshCookieFrom(first.headers));
  });

  it("reuse after the grace window ends the whole session: the newest token stops working too", async () => {
    const { cookie, access } = await login(server, "rotor");
    const first = await refresh(server, cookie);
    const successor = refreshCookieFrom(first.headers)!;
    clock.advance(6000);
    const reuse = await refresh(server, cookie);
    assert.equal(reuse.status, 401);
    assert.equal((reuse.body as { error: string }).error, "invalid_grant");
    const newest = await refresh(server, successor);
    assert.equal(newest.status, 401, "the successor died with the session");
    const me = await request(`${server.url}/auth/me`, { headers: { authorization: `Bearer ${access}` } });
    assert.equal(me.status, 401, "Gatehouse's own bearer routes reject the ended session's access token at once");
  });

  it("20 parallel refreshes with one token yield one successor and no 5xx", async () => {
    const { cookie } = await login(server, "rotor");
    const results = await Promise.all(Array.from({ length: 20 }, () => refresh(server, cookie)));
    for (const r of results) assert.equal(r.status, 200, r.text);
    const successors = new Set(results.map((r) => refreshCookieFrom(r.headers)));
    assert.equal(successors.size, 1);
    const [successor] = [...successors];
    const next = await refresh(server, successor!);
    assert.equal(next.status, 200, "the single successor is live");
  });

  it("a session dies after the idle limit without refresh", async () => {
    const { cookie } = await login(server, "rotor");
    clock.advance(7 * DAY + 1000);
    const res = await refresh(server, cookie);
    assert.equal(res.status, 401);
    assert.equal((res.body as { error: string }).error, "invalid_grant");
  });

  it("rotation never extends a session past the absolute limit", async () => {
    let { cookie } = await login(server, "rotor");
    for (let day = 0; day < 29; day++) {
      clock.advance(DAY);
      const res = await refresh(server, cookie);
      assert.equal(res.status, 200, `day ${day + 1}`);
      cookie = refreshCookieFrom(res.headers)!;
      const maxAge = Number(/Max-Age=(\d+)/.exec(res.headers.getSetCookie()[0] ?? "")?.[1]);
      assert.ok(maxAge <= (30 - day - 1) * 86_400, "cookie never outlives the absolute limit");
    }
    clock.advance(DAY + 1000);
    const res = await refresh(server, cookie);
    assert.equal(res.status, 401);
  });

  it("logout ends the session: refresh fails and the access token is refused by bearer routes", async () => {
    const { cookie, access } = await login(server, "rotor");
    const out = await request(`${server.url}/auth/logout`, {
      method: "POST",
      json: {},
      headers: { cookie: `${REFRESH_COOKIE}=${cookie}` },
    });
    assert.equal(out.status, 204);
    assert.match(out.headers.getSetCookie()[0] ?? "", /Max-Age=0/);
    const res = await refresh(server, cookie);
    assert.equal(res.status, 401);
    const me = await request(`${server.url}/auth/me`, { headers: { authorization: `Bearer ${access}` } });
    assert.equal(me.status, 401);
    const again = await request(`${server.url}/auth/logout`, {
      method: "POST",
      json: {},
      headers: { cookie: `${REFRESH_COOKIE}=${cookie}` },
    });
    assert.equal(again.status, 204, "repeating logout is harmless");
  });

  it("logout by bearer token ends that session", async () => {
    const { cookie, access } = await login(server, "rotor");
    const out = await request(`${server.url}/auth/logout`, {
      method: "POST",
      json: {},
      headers: { authorization: `Bearer ${access}` },
    });
    assert.equal(out.status, 204);
    assert.equal((await refresh(server, cookie)).status, 401);
    const again = await request(`${server.url}/auth/logout`, {
      method: "POST",
      json: {},
      headers: { authorization: `Bearer ${access}` },
    });
    assert.equal(again.status, 204);
  });

  it("an access token expires after 15 minutes (60 s skew allowed)", async () => {
    const { access } = await login(server, "rotor");
    clock.advance(900_000 + 30_000);
    assert.equal(
      (await request(`${server.url}/auth/me`, { headers: { authorization: `Bearer ${access}` } })).status,
      200,
    );
    clock.advance(31_000);
    const res = await request(`${server.url}/auth/me`, { headers: { authorization: `Bearer ${access}` } });
    assert.equal(res.status, 401);
    assert.match(res.headers.get("www-authenticate") ?? "", /^Bearer realm="gatehouse", error="invalid_token"/);
  });
});

describe("logout with an expired access token beside the cookie", () => {
  it("still ends the session and clears the cookie", async () => {
    const clock = new ManualClock();
    const server = await startTestServer({ clock });
    try {
      await request(`${server.url}/auth/register`, {
        method: "POST",
        json: { username: "late", password: STRONG_PASSWORD },
      });
      const { access, cookie } = await login(server, "late");
      clock.advance(3_600_000);
      const out = await request(`${server.url}/auth/logout`, {
        method: "POST",
        json: {},
        headers: { cookie: `${REFRESH_COOKIE}=${cookie}`, authorization: `Bearer ${access}` },
      });
      assert.equal(out.status, 204);
      assert.match(out.headers.getSetCookie()[0] ?? "", /Max-Age=0/);
      assert.equal((await refresh(server, cookie)).status, 401);
    } finally {
      await server.close();
    }
  });
});
