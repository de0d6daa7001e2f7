import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import { AuthError } from "../../src/core/errors.ts";
import { createLoginThrottle, DEFAULT_LOGIN_THROTTLE, openPostgresThrottleBackend } from "../../src/core/throttle/login-throttle.ts";
import { PostgresStore } from "../../src/store/postgres/postgres-store.ts";
import { createThrowawaySchema, type ThrowawaySchema } from "../helpers/postgres-schema.ts";
import { request, STRONG_PASSWORD } from "../helpers/http.ts";
import { startTestServer, type TestServer } from "../helpers/test-server.ts";

/**
 * CONTRACT §6 for throttling: instances sharing one PostgreSQL count failed logins and
 * registrations together, as one instance would. Each run uses a fresh schema. Without
 * TEST_DATABASE_URL this fails on purpose (npm test starts a throwaway PostgreSQL).
 */
const url = process.env["TEST_DATABASE_URL"];
const throttle = { perAccountAndIp: { attempts: 5, windowSeconds: 60, blockSeconds: 60 } };

const login = (server: TestServer, username: string, password: string) =>
  request(`${server.url}/auth/login`, { method: "POST", json: { username, password } });
const register = (server: TestServer, username: string) =>
  request(`${server.url}/auth/register`, { method: "POST", json: { username, password: STRONG_PASSWORD } });

describe("throttling shared by two instances on one PostgreSQL", () => {
  let db: ThrowawaySchema;
  let servers: TestServer[] = [];

  before(async () => {
    db = await createThrowawaySchema("gatehouse_throttle");
    // Started at once: both create the throttle table concurrently.
    servers = await Promise.all(
      [0, 1].map(async () =>
        startTestServer({ store: await PostgresStore.open(db.url, { schema: db.schema }), loginThrottle: throttle, registrationsPerIpPerHour: 3 }),
      ),
    );
  });
  after(async () => {
    await Promise.all(servers.map((server) => server.close()));
    await db?.drop();
  });

  it("creates the counter table in the store's schema at start-up", async () => {
    const { rows } = await db.admin.query("SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'gatehouse_throttle'", [db.schema]);
    assert.equal(rows.length, 1);
  });

  it("failures alternating between the instances reach 429 with Retry-After after 5 in total, on both", async () => {
    const [a, b] = servers as [TestServer, TestServer];
    assert.equal((await register(a, "shared-target")).status, 201);
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await login(i % 2 === 0 ? a : b, "shared-target", `wrong guess ${i} of many`)).status);
    assert.deepEqual(statuses, [401, 401, 401, 401, 401]);
    for (const server of [a, b]) {
      const refused = await login(server, "Shared-Target", STRONG_PASSWORD);
      assert.equal(refused.status, 429, "even the right password is refused while blocked");
      assert.equal((refused.body as { error: string }).error, "too_many_requests");
      const retryAfter = Number(refused.headers.get("retry-after"));
      assert.ok(retryAfter > 0 && retryAfter <= 60, `Retry-After ${String(refused.headers.get("retry-after"))}`);
    }
  });

  it("counts registrations per IP across the instances", async () => {
    const [a, b] = servers as [TestServer, TestServer];
    // One registration already happened above; the limit is 3 per hour.
    assert.equal((await register(b, "second-user")).status, 201);
    assert.equal((await register(a, "third-user")).status, 201);
    const refused = await register(b, "fourth-user");
    assert.equal(refused.status, 429);
    assert.ok(Number(refused.headers.get("retry-after")) > 0);
  });
});

describe("the PostgreSQL throttle backend when the database is gone", () => {
  it("answers unavailable (503), for start-up and for each check", async () => {
    assert.ok(url, "TEST_DATABASE_URL is not set.");
    const schema = `gatehouse_throttle_${randomBytes(6).toString("hex")}`;
    const pool = new pg.Pool({ connectionString: url });
    await pool.query(`CREATE SCHEMA ${schema}`);
    const backend = await openPostgresThrottleBackend(pool, schema);
    const limiter = createLoginThrottle({ ...DEFAULT_LOGIN_THROTTLE, backend });
    await limiter.recordFailure("someone", "203.0.113.9"); // works while the database is up
    await pool.query(`DROP SCHEMA ${schema} CASCADE`);
    await pool.end();
    const unavailable = (error: unknown) => error instanceof AuthError && error.code === "unavailable";
    await assert.rejects(limiter.check("someone", "203.0.113.9"), unavailable);
    await assert.rejects(limiter.recordFailure("someone", "203.0.113.9"), unavailable);
    await assert.rejects(openPostgresThrottleBackend(pool, schema), unavailable);
  });
});

describe("two SQLite instances keep the memory backend, as before", () => {
  let dir: string;
  let servers: TestServer[] = [];
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "gatehouse-throttle-"));
    servers = [await startTestServer({ keepDirectory: dir, loginThrottle: throttle })];
    servers.push(await startTestServer({ keepDirectory: dir, loginThrottle: throttle }));
  });
  after(async () => {
    await Promise.all(servers.map((server) => server.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  it("each process counts only its own failures", async () => {
    const [a, b] = servers as [TestServer, TestServer];
    assert.equal((await register(a, "local-target")).status, 201);
    for (let i = 0; i < 5; i++) assert.equal((await login(a, "local-target", `wrong guess ${i} of many`)).status, 401);
    const blocked = await login(a, "local-target", "one more wrong guess");
    assert.equal(blocked.status, 429);
    assert.ok(Number(blocked.headers.get("retry-after")) > 0);
    assert.equal((await login(b, "local-target", STRONG_PASSWORD)).status, 200, "the other process has its own counters");
  });
});
