import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { request } from "../helpers/http.ts";
import {
  bearer,
  type Instance,
  kidOf,
  login,
  randomPassword,
  register,
  runCli,
  startInstance,
  timeUntil,
} from "./instances.ts";

/**
 * SQLite's change feed: in-process, after commit, for the server's own endings; and for what
 * another process commits to the file (the CLI), a check of `PRAGMA data_version`.
 */
describe("revocation on SQLite", () => {
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-sqlite-feed-"));
  const database = `sqlite:${join(dir, "gatehouse.db")}`;
  let server: Instance;
  let username: string;
  let password: string;

  before(async () => {
    server = await startInstance({ database });
    username = "sqlite-user";
    password = randomPassword();
    await register(server, username, password);
  });
  after(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("the server's own endings take effect before the ending request is answered, with no database read", async () => {
    const sessions = [await login(server, username, password), await login(server, username, password)];
    for (const session of sessions) assert.equal(await server.orders(session.accessToken), 200);
    const before = server.auth.sessionCheckStatus();
    assert.equal(before.answersFromMemory, true);

    const logout = await request(`${server.url}/auth/logout`, {
      method: "POST",
      json: {},
      headers: bearer(sessions[0]!.accessToken),
    });
    assert.equal(logout.status, 204);
    assert.equal(await server.orders(sessions[0]!.accessToken), 401);
    assert.equal(await server.orders(sessions[1]!.accessToken), 200);
    const logoutAll = await request(`${server.url}/auth/logout-all`, {
      method: "POST",
      json: {},
      headers: bearer(sessions[1]!.accessToken),
    });
    assert.equal(logoutAll.status, 204);
    assert.equal(await server.orders(sessions[1]!.accessToken), 401);
    assert.equal(server.auth.sessionCheckStatus().databaseChecks, before.databaseChecks, "answered from memory");
  });

  it("a session revoked by the CLI (another process) is refused within a second", async (t) => {
    const session = await login(server, username, password);
    assert.equal(await server.orders(session.accessToken), 200);
    const run = await runCli(database, ["sessions", "revoke", session.sessionId]);
    assert.equal(run.code, 0, run.stderr);
    const started = performance.now();
    const delay = await timeUntil(async () => (await server.orders(session.accessToken)) === 401, started, 5000);
    t.diagnostic(`refused ${delay.toFixed(1)} ms after the CLI exited`);
    assert.ok(delay < 1000, `took ${delay.toFixed(0)} ms`);
  });

  it("`keys revoke` (another process) stops the key's tokens within a second, cached ones included", async (t) => {
    const session = await login(server, username, password);
    const kid = kidOf(session.accessToken);
    assert.equal(await server.orders(session.accessToken), 200);
    assert.equal(await server.stateless(session.accessToken), 200, "now in the verify cache");
    const run = await runCli(database, ["keys", "revoke", kid]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`Removed key ${kid}`));
    const started = performance.now();
    const delay = await timeUntil(async () => (await server.stateless(session.accessToken)) === 401, started, 5000);
    t.diagnostic(`refused ${delay.toFixed(1)} ms after the CLI exited`);
    assert.ok(delay < 1000, `took ${delay.toFixed(0)} ms`);
    assert.equal(await server.orders(session.accessToken), 401);

    const fresh = await login(server, username, password);
    assert.notEqual(kidOf(fresh.accessToken), kid, "a replacement key signs at once");
    assert.equal(await server.orders(fresh.accessToken), 200);
  });
});
