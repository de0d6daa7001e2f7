import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import Database from "better-sqlite3";
import { request, STRONG_PASSWORD } from "../helpers/http.ts";
import { startTestServer, type TestServer } from "../helpers/test-server.ts";
import { type EmbeddedPostgres, startEmbeddedPostgres } from "../helpers/embedded-postgres.ts";

interface ReadyBody {
  status?: string;
  error?: string;
  message?: string;
  checks: { database: string; schema: string; keys: string };
}

async function readyz(server: TestServer) {
  const res = await request(`${server.url}/readyz`);
  return { status: res.status, body: res.body as ReadyBody, headers: res.headers };
}

/** Polls /readyz until it answers `status`, for at most `ms`. */
async function waitForReady(server: TestServer, status: number, ms: number) {
  const deadline = Date.now() + ms;
  for (;;) {
    const answer = await readyz(server);
    if (answer.status === status || Date.now() > deadline) return answer;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe("health: /healthz and /readyz with PostgreSQL stopped and started again", () => {
  // A server of this test's own, never the shared one: the test stops it and starts it again.
  let postgres: EmbeddedPostgres;
  let server: TestServer;

  before(async () => {
    postgres = await startEmbeddedPostgres();
    server = await startTestServer({ database: postgres.url });
  });
  after(async () => {
    await server?.close();
    await postgres?.stop();
  });

  it("is live and ready while the database answers", async () => {
    const live = await request(`${server.url}/healthz`);
    assert.equal(live.status, 200);
    assert.deepEqual(live.body, { status: "ok" });
    const ready = await readyz(server);
    assert.equal(ready.status, 200, JSON.stringify(ready.body));
    assert.deepEqual(ready.body, { status: "ready", checks: { database: "ok", schema: "ok", keys: "ok" } });
    assert.equal(ready.headers.get("cache-control"), "no-store");
  });

  it("is not ready (503) while PostgreSQL is stopped, but still live; a login gets 503 too", async () => {
    const registered = await request(`${server.url}/auth/register`, {
      method: "POST",
      json: { username: "healthy", password: STRONG_PASSWORD },
    });
    assert.equal(registered.status, 201, registered.text);
    await postgres.pause();

    const ready = await readyz(server);
    assert.equal(ready.status, 503);
    assert.equal(ready.body.error, "unavailable");
    assert.equal(ready.body.checks.database, "failing");
    assert.equal(ready.body.checks.keys, "ok", "keys live in memory once loaded");
    assert.match(ready.body.message ?? "", /database/);

    const live = await request(`${server.url}/healthz`);
    assert.equal(live.status, 200, "the process still answers");
    const login = await request(`${server.url}/auth/login`, {
      method: "POST",
      json: { username: "healthy", password: STRONG_PASSWORD },
    });
    assert.equal(login.status, 503, login.text);
  });

  it("is ready again once PostgreSQL is back, without a restart", async () => {
    await postgres.resume();
    const ready = await waitForReady(server, 200, 15_000);
    assert.equal(ready.status, 200, JSON.stringify(ready.body));
    const login = await request(`${server.url}/auth/login`, {
      method: "POST",
      json: { username: "healthy", password: STRONG_PASSWORD },
    });
    assert.equal(login.status, 200, login.text);
  });

  it("answers 503 at once when draining begins, whatever the database says", async () => {
    server.auth.startDraining();
    const ready = await readyz(server);
    assert.equal(ready.status, 503);
    assert.match(ready.body.message ?? "", /shutting down/);
    assert.equal((await request(`${server.url}/healthz`)).status, 200);
  });
});

describe("health: /readyz on SQLite", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  it("is ready on a fresh database, and not ready when the schema is older than the code", async () => {
    assert.equal((await readyz(server)).status, 200);
    // As if an older dump had been restored under the running server: its newest step is missing.
    const db = new Database(server.databasePath);
    try {
      db.prepare("DELETE FROM schema_migrations WHERE version = (SELECT MAX(version) FROM schema_migrations)").run();
    } finally {
      db.close();
    }
    const ready = await readyz(server);
    assert.equal(ready.status, 503);
    assert.deepEqual(ready.body.checks, { database: "ok", schema: "failing", keys: "ok" });
    assert.match(ready.body.message ?? "", /gatehouse migrate/);
  });
});
