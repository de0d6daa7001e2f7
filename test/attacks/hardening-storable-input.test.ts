import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import Database from "better-sqlite3";
import { openPostgresStore } from "../../src/store/postgres/driver.ts";
import { createThrowawaySchema, type ThrowawaySchema } from "../helpers/postgres-schema.ts";
import { type JsonResponse, request, STRONG_PASSWORD } from "../helpers/http.ts";
import { startTestServer, type TestServer } from "../helpers/test-server.ts";

/**
 * Input the database cannot store (NUL bytes, unpaired surrogates, malformed ids) is the
 * client's mistake: 400, never 503 — and a failure deep in a login never leaves a throttle
 * slot taken, so it cannot lock the address's real logins out.
 */
interface Backend {
  name: string;
  start(): Promise<TestServer>;
  /** Makes the users table unreachable (a real database fault) until the returned function runs. */
  breakUsersTable(server: TestServer): Promise<() => Promise<void>>;
  stop(): Promise<void>;
}

let schema: ThrowawaySchema | undefined;
// Every login attempt counts toward the per-address rate (60 a minute); lifted here so that what
// is under test is the failure throttle's slots, which faults must give back.
const LIFTED_RATE = { loginRate: { perIp: { attempts: 1_000_000 } } };
const backends: Backend[] = [
  {
    name: "SQLite",
    start: () => startTestServer(LIFTED_RATE),
    async breakUsersTable(server) {
      const db = new Database(server.databasePath);
      db.exec("ALTER TABLE users RENAME TO users_away");
      return async () => {
        db.exec("ALTER TABLE users_away RENAME TO users");
        db.close();
      };
    },
    stop: async () => undefined,
  },
  {
    name: "PostgreSQL",
    async start() {
      schema = await createThrowawaySchema("gatehouse_storable");
      return startTestServer({ ...LIFTED_RATE, store: openPostgresStore(schema.url, { schema: schema.schema }) });
    },
    async breakUsersTable() {
      const db = schema!;
      await db.admin.query(`ALTER TABLE ${db.schema}.users RENAME TO users_away`);
      return async () => {
        await db.admin.query(`ALTER TABLE ${db.schema}.users_away RENAME TO users`);
      };
    },
    stop: async () => schema?.drop(),
  },
];

function assertInvalidRequest(res: JsonResponse, what: string): void {
  assert.equal(res.status, 400, `${what}: ${res.status} ${res.text}`);
  assert.equal((res.body as { error: string }).error, "invalid_request", what);
}

for (const backend of backends) {
  describe(`unstorable input on ${backend.name}`, () => {
    let server: TestServer;
    before(async () => {
      server = await backend.start();
      const reg = await request(`${server.url}/auth/register`, {
        method: "POST",
        json: { username: "nina", password: STRONG_PASSWORD },
      });
      assert.equal(reg.status, 201, reg.text);
    });
    after(async () => {
      await server.close();
      await backend.stop();
    });

    const post = (path: string, body: string) =>
      request(`${server.url}/auth/${path}`, { method: "POST", body, headers: { "content-type": "application/json" } });
    const login = () =>
      request(`${server.url}/auth/login`, { method: "POST", json: { username: "nina", password: STRONG_PASSWORD } });

    it("a NUL byte or an unpaired surrogate in any JSON string field is 400 invalid_request", async () => {
      const cases: [string, string][] = [
        ["login", `{"username":"ni\\u0000na","password":"${STRONG_PASSWORD}"}`],
        ["login", `{"username":"nina","password":"pass\\u0000word pass word"}`],
        ["login", `{"username":"\\ud800nina","password":"${STRONG_PASSWORD}"}`],
        ["login", `{"username":"nina\\udc00","password":"${STRONG_PASSWORD}"}`],
        ["register", `{"username":"new\\u0000user","password":"${STRONG_PASSWORD}"}`],
        ["register", `{"username":"newuser","password":"${STRONG_PASSWORD}\\ud83d"}`],
        ["refresh", `{"refresh_token":"${"A".repeat(42)}\\u0000"}`],
        ["logout", `{"refresh_token":"\\u0000"}`],
      ];
      for (const [path, body] of cases) assertInvalidRequest(await post(path, body), `${path} ${body}`);
    });

    it("a session id that is not a session id's shape is 400 invalid_request, not a database error", async () => {
      const token = (await login()).body as { access_token: string };
      const bearer = { authorization: `Bearer ${token.access_token}` };
      for (const id of ["%00", "a%00b", "%ED%A0%80", "not-a-session-id", "x".repeat(64), "%3Cscript%3E"]) {
        const res = await request(`${server.url}/auth/sessions/${id}`, { method: "DELETE", headers: bearer });
        assertInvalidRequest(res, `DELETE /auth/sessions/${id}`);
      }
      const unknown = await request(`${server.url}/auth/sessions/${crypto.randomUUID()}`, {
        method: "DELETE",
        headers: bearer,
      });
      assert.equal(unknown.status, 404, "a well-formed id that is not theirs stays 404");
    });

    it("a hundred such requests do not lock the address's correct login out", async () => {
      for (let i = 0; i < 100; i++) {
        const res = await post("login", `{"username":"u${i}\\u0000","password":"${STRONG_PASSWORD}"}`);
        assert.ok(res.status < 500, `request ${i}: ${res.status} ${res.text}`);
      }
      const res = await login();
      assert.equal(res.status, 200, res.text);
    });

    it("logins that fail on a database fault give their throttle slots back", async () => {
      const restore = await backend.breakUsersTable(server);
      try {
        // More than both limits (10 per account and address, 100 per address) would allow in flight.
        for (let i = 0; i < 101; i++) {
          const res = await login();
          assert.equal(res.status, 503, `attempt ${i} during the fault: ${res.status} ${res.text}`);
        }
      } finally {
        await restore();
      }
      const res = await login();
      assert.equal(res.status, 200, `after the fault: ${res.status} ${res.text}`);
    });
  });
}
