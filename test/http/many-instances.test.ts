import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { openPostgresStore } from "../../src/store/postgres/driver.ts";
import { createThrowawaySchema, type ThrowawaySchema } from "../helpers/postgres-schema.ts";
import { REFRESH_COOKIE, refreshCookieFrom, request, STRONG_PASSWORD } from "../helpers/http.ts";
import { startTestServer, type TestServer } from "../helpers/test-server.ts";

/**
 * CONTRACT §6 at the HTTP level: three Gatehouse servers sharing one PostgreSQL give the
 * same answers as one. Each test run uses a fresh schema. Without TEST_DATABASE_URL this
 * fails on purpose (npm test starts a throwaway PostgreSQL when it is unset).
 */
describe("three instances behind one PostgreSQL", () => {
  let db: ThrowawaySchema;
  let servers: TestServer[] = [];

  before(async () => {
    db = await createThrowawaySchema("gatehouse_multi");
    // Start them at once: migrations and first keys must settle on one shared state.
    servers = await Promise.all(
      [0, 1, 2].map(async () => startTestServer({ store: openPostgresStore(db.url, { schema: db.schema }) })),
    );
  });
  after(async () => {
    await Promise.all(servers.map((server) => server.close()));
    await db?.drop();
  });

  const refreshOn = (server: TestServer, cookie: string) =>
    request(`${server.url}/auth/refresh`, {
      method: "POST",
      json: {},
      headers: { cookie: `${REFRESH_COOKIE}=${cookie}` },
    });

  it("publish one signing key: every instance's JWKS agrees", async () => {
    const sets = await Promise.all(servers.map((s) => request(`${s.url}/.well-known/jwks.json`)));
    const kids = sets.map((r) => JSON.stringify((r.body as { keys: { kid: string }[] }).keys.map((k) => k.kid).sort()));
    assert.equal(new Set(kids).size, 1, kids.join(" | "));
  });

  it("register on A, log in on B, refresh on C, use the token on A, log out on B", async () => {
    const [a, b, c] = servers as [TestServer, TestServer, TestServer];
    assert.equal(
      (
        await request(`${a.url}/auth/register`, {
          method: "POST",
          json: { username: "roamer", password: STRONG_PASSWORD },
        })
      ).status,
      201,
    );
    const login = await request(`${b.url}/auth/login`, {
      method: "POST",
      json: { username: "roamer", password: STRONG_PASSWORD },
    });
    assert.equal(login.status, 200);
    const refreshed = await refreshOn(c, refreshCookieFrom(login.headers)!);
    assert.equal(refreshed.status, 200);
    const access = (refreshed.body as { access_token: string }).access_token;
    assert.equal((await request(`${a.url}/auth/me`, { headers: { authorization: `Bearer ${access}` } })).status, 200);
    const cookie = refreshCookieFrom(refreshed.headers)!;
    assert.equal(
      (
        await request(`${b.url}/auth/logout`, {
          method: "POST",
          json: {},
          headers: { cookie: `${REFRESH_COOKIE}=${cookie}` },
        })
      ).status,
      204,
    );
    assert.equal((await refreshOn(a, cookie)).status, 401, "logged out everywhere");
    assert.equal((await request(`${c.url}/auth/me`, { headers: { authorization: `Bearer ${access}` } })).status, 401);
  });

  it("concurrent refreshes of one token spread over the instances get one successor; reuse later ends the session everywhere", async () => {
    const login = await request(`${servers[0]!.url}/auth/login`, {
      method: "POST",
      json: { username: "roamer", password: STRONG_PASSWORD },
    });
    const cookie = refreshCookieFrom(login.headers)!;
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => refreshOn(servers[i % 3]!, cookie)));
    for (const r of results) assert.equal(r.status, 200, r.text);
    const successors = new Set(results.map((r) => refreshCookieFrom(r.headers)));
    assert.equal(successors.size, 1);
    const [successor] = [...successors];
    await new Promise((resolve) => setTimeout(resolve, 5_500)); // past the 5 s grace window
    assert.equal((await refreshOn(servers[1]!, cookie)).status, 401, "reuse detected on another instance");
    assert.equal((await refreshOn(servers[2]!, successor!)).status, 401, "the whole session ended");
  });
});
