import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { request, STRONG_PASSWORD } from "../helpers/http.ts";
import { startTestServer, type TestServer } from "../helpers/test-server.ts";

interface ActivityEvent {
  id: string;
  type: string;
  at: string;
  session_id: string | null;
  ip: string | null;
  user_agent: string | null;
  details: Record<string, unknown>;
}
interface ActivityPage {
  events: ActivityEvent[];
  next_before: string | null;
}

describe("GET /auth/activity", () => {
  let server: TestServer;
  const users: Record<string, { id: string; token: string; sessionId: string }> = {};

  const activity = (token: string | undefined, query = "") =>
    request(`${server.url}/auth/activity${query}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});

  before(async () => {
    server = await startTestServer();
    for (const username of ["fay", "gus"]) {
      const registered = await request(`${server.url}/auth/register`, {
        method: "POST",
        json: { username, password: STRONG_PASSWORD },
      });
      const id = (registered.body as { user: { id: string } }).user.id;
      const login = await request(`${server.url}/auth/login`, {
        method: "POST",
        headers: { "user-agent": `${username}-browser` },
        json: { username, password: STRONG_PASSWORD, token_transport: "body" },
      });
      const token = (login.body as { access_token: string }).access_token;
      const me = await request(`${server.url}/auth/me`, { headers: { authorization: `Bearer ${token}` } });
      users[username] = { id, token, sessionId: (me.body as { session_id: string }).session_id };
    }
    // More of fay's history, cheaply: failed logins from another address.
    for (let i = 0; i < 23; i++) {
      await server.auth.events.recordAlone(server.auth.store, {
        type: "login_failed",
        userId: users["fay"]!.id,
        ip: "198.51.100.4",
        userAgent: "curl/8",
        data: { reason: "wrong_password" },
      });
    }
  });
  after(() => server.close());

  it("needs a bearer token (RFC 6750)", async () => {
    const response = await activity(undefined);
    assert.equal(response.status, 401);
    assert.match(response.headers.get("www-authenticate") ?? "", /^Bearer realm=/);
  });

  it("shows the caller's own events, newest first, in the documented shape", async () => {
    const response = await activity(users["gus"]!.token);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("cache-control"), "no-store");
    const page = response.body as ActivityPage;
    assert.deepEqual(
      page.events.map((e) => e.type),
      ["login_succeeded", "user_registered"],
    );
    const [login] = page.events;
    assert.deepEqual(Object.keys(login!).sort(), ["at", "details", "id", "ip", "session_id", "type", "user_agent"]);
    assert.equal(login!.session_id, users["gus"]!.sessionId);
    assert.equal(login!.user_agent, "gus-browser");
    assert.equal(login!.ip, "127.0.0.1");
    assert.ok(!Number.isNaN(Date.parse(login!.at)) && login!.at.endsWith("Z"));
    assert.equal(page.next_before, null, "everything fit on one page");
  });

  it("pages with ?limit= and ?before=, each event once, until next_before is null", async () => {
    const seen: ActivityEvent[] = [];
    let before: string | null = null;
    let pages = 0;
    do {
      const query: string = `?limit=10${before ? `&before=${before}` : ""}`;
      const response = await activity(users["fay"]!.token, query);
      assert.equal(response.status, 200, response.text);
      const page = response.body as ActivityPage;
      seen.push(...page.events);
      before = page.next_before;
      pages++;
    } while (before !== null && pages < 10);
    assert.equal(pages, 3);
    assert.equal(seen.length, 25);
    assert.equal(new Set(seen.map((e) => e.id)).size, 25);
    const ids = seen.map((e) => e.id);
    assert.deepEqual(ids, [...ids].sort().reverse(), "newest first");
    assert.equal(seen.at(-1)?.type, "user_registered");
    const defaultPage = (await activity(users["fay"]!.token)).body as ActivityPage;
    assert.equal(defaultPage.events.length, 20, "20 events per page by default");
  });

  it("never shows another user's events", async () => {
    const page = (await activity(users["gus"]!.token, "?limit=100")).body as ActivityPage;
    assert.ok(page.events.every((e) => e.user_agent !== "curl/8" && e.user_agent !== "fay-browser"));
    const fays = (await activity(users["fay"]!.token, "?limit=1")).body as ActivityPage;
    // Another user's event id as the cursor only narrows gus's own list.
    const narrowed = (await activity(users["gus"]!.token, `?before=${fays.events[0]!.id}`)).body as ActivityPage;
    assert.ok(narrowed.events.every((e) => page.events.some((own) => own.id === e.id)));
  });

  it("answers 400 invalid_request for a bad limit, a bad cursor or an unknown parameter", async () => {
    const token = users["fay"]!.token;
    for (const query of [
      "?limit=0",
      "?limit=101",
      "?limit=abc",
      "?limit=1.5",
      "?limit=-1",
      "?limit=1&limit=2",
      "?before=not-an-id",
      "?before=",
      "?before=00000000-0000-0000-0000-00000000000G",
      "?page=2",
    ]) {
      const response = await activity(token, query);
      assert.equal(response.status, 400, query);
      assert.equal((response.body as { error: string }).error, "invalid_request", query);
    }
  });
});
