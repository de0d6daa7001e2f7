import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { resolveConfig } from "../../src/core/config.ts";
import { AuthError } from "../../src/core/errors.ts";
import type { Store } from "../../src/core/store/store.ts";
import { createLoginThrottle } from "../../src/core/throttle/login-throttle.ts";
import { createGatehouse } from "../../src/gatehouse.ts";
import { createLogger } from "../../src/logging/logger.ts";
import { openPostgresStore } from "../../src/store/postgres/driver.ts";
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
        startTestServer({
          store: openPostgresStore(db.url, { schema: db.schema }),
          loginThrottle: throttle,
          registrationsPerIpPerHour: 3,
        }),
      ),
    );
  });
  after(async () => {
    await Promise.all(servers.map((server) => server.close()));
    await db?.drop();
  });

  it("creates the counter table in the store's schema at start-up", async () => {
    const { rows } = await db.admin.query(
      "SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'gatehouse_throttle'",
      [db.schema],
    );
    assert.equal(rows.length, 1);
  });

  it("failures alternating between the instances reach 429 with Retry-After after 5 in total, on both", async () => {
    const [a, b] = servers as [TestServer, TestServer];
    assert.equal((await register(a, "shared-target")).status, 201);
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++)
      statuses.push((await login(i % 2 === 0 ? a : b, "shared-target", `wrong guess ${i} of many`)).status);
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

describe("the PostgreSQL store's counters", () => {
  it("are shared (not per process) and count in the store's schema", async () => {
    const db = await createThrowawaySchema("gatehouse_counters");
    const store = openPostgresStore(db.url, { schema: db.schema });
    try {
      const counters = await store.counters();
      assert.equal(counters.scope, "shared");
      assert.equal(await store.counters(), counters, "opened once per store");
      await createLoginThrottle({ ...resolveConfig().loginThrottle, backend: counters }).recordFailure(
        "someone",
        "203.0.113.9",
      );
      const { rows } = await db.admin.query(`SELECT count(*)::int AS n FROM ${db.schema}.gatehouse_throttle`);
      assert.ok(rows[0].n >= 1, "the failure was counted in the database");
    } finally {
      await store.close();
      await db.drop();
    }
  });

  it("answer unavailable (503) when the database is gone, for start-up and for each check", async () => {
    assert.ok(url, "TEST_DATABASE_URL is not set.");
    const db = await createThrowawaySchema("gatehouse_throttle_gone");
    const store = openPostgresStore(db.url, { schema: db.schema });
    const limiter = createLoginThrottle({ ...resolveConfig().loginThrottle, backend: await store.counters() });
    await limiter.recordFailure("someone", "203.0.113.9"); // works while the database is up
    await db.drop();
    await store.close();
    const unavailable = (error: unknown) => error instanceof AuthError && error.code === "unavailable";
    await assert.rejects(limiter.check("someone", "203.0.113.9"), unavailable);
    await assert.rejects(limiter.recordFailure("someone", "203.0.113.9"), unavailable);
    const unreachable = openPostgresStore("postgres://gatehouse:not-the-password@127.0.0.1:1/none", {
      connectTimeoutMs: 2000,
    });
    try {
      await assert.rejects(unreachable.counters(), unavailable);
    } finally {
      await unreachable.close();
    }
  });
});

describe("a store given to createGatehouse without counters", () => {
  it("is refused at start-up with invalid_config, not throttled silently per process", async () => {
    const db = await createThrowawaySchema("gatehouse_no_counters");
    const real = openPostgresStore(db.url, { schema: db.schema });
    // A custom store that offers every operation but no counters() capability.
    const withoutCounters = new Proxy(real, {
      get: (target, property) => {
        if (property === "counters") return undefined;
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    }) as unknown as Store;
    try {
      await assert.rejects(
        createGatehouse({ store: withoutCounters, logger: createLogger({ level: "silent" }) }),
        (error) => {
          assert.ok(error instanceof AuthError && error.code === "invalid_config", String(error));
          assert.match(error.message, /counters\(\)/);
          return true;
        },
      );
    } finally {
      await real.close();
      await db.drop();
    }
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
    assert.equal(
      (await login(b, "local-target", STRONG_PASSWORD)).status,
      200,
      "the other process has its own counters",
    );
  });
});
