import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import Database from "better-sqlite3";
import { AuthError } from "../../src/core/errors.ts";
import type { SecurityEvent } from "../../src/core/events/security-event.ts";
import type { AuditEventRecord, Store, TransactionOps } from "../../src/core/store/store.ts";
import { createGatehouse } from "../../src/gatehouse.ts";
import { createLogger } from "../../src/logging/logger.ts";
import { openSqliteStore } from "../../src/store/sqlite/driver.ts";
import { request, STRONG_PASSWORD } from "../helpers/http.ts";
import { startTestServer, type TestServer } from "../helpers/test-server.ts";
import { eventually } from "./eventually.ts";

const UA = "audit-trail-test/1.0";
const WRONG_PASSWORD = "not the right password at all 7";
const UNKNOWN_NAME = "nobody-typed-this-name";

describe("the audit trail of a scripted flow over HTTP", () => {
  let server: TestServer;
  const secrets: string[] = [STRONG_PASSWORD, WRONG_PASSWORD, `${STRONG_PASSWORD} changed`];
  let adaId = "";
  let events: AuditEventRecord[] = [];
  const sessions: Record<string, string> = {};

  const call = async (method: string, path: string, options: { json?: unknown; token?: string } = {}) => {
    const headers: Record<string, string> = { "user-agent": UA };
    if (options.token) headers["authorization"] = `Bearer ${options.token}`;
    const json = options.json ?? (method === "POST" ? {} : undefined);
    const init = { method, headers, ...(json === undefined ? {} : { json }) };
    const response = await request(`${server.url}/auth${path}`, init);
    for (const field of ["access_token", "refresh_token"]) {
      const value = (response.body as Record<string, unknown> | null)?.[field];
      if (typeof value === "string") secrets.push(value);
    }
    return response;
  };
  const login = async (username: string, password = STRONG_PASSWORD) => {
    const response = await call("POST", "/login", { json: { username, password, token_transport: "body" } });
    const body = response.body as { access_token: string; refresh_token: string };
    return { status: response.status, access: body.access_token, refresh: body.refresh_token };
  };
  const sessionOf = async (access: string) =>
    ((await call("GET", "/me", { token: access })).body as { session_id: string }).session_id;

  before(async () => {
    server = await startTestServer({
      refreshGraceSeconds: 0,
      loginThrottle: { perAccountAndIp: { attempts: 3 } },
    });
    const registered = await call("POST", "/register", { json: { username: "ada", password: STRONG_PASSWORD } });
    assert.equal(registered.status, 201);
    adaId = (registered.body as { user: { id: string } }).user.id;
    assert.equal((await login(UNKNOWN_NAME, WRONG_PASSWORD)).status, 401);
    assert.equal((await login("ada", WRONG_PASSWORD)).status, 401);

    const first = await login("ada");
    sessions["first"] = await sessionOf(first.access);
    const rotated = await call("POST", "/refresh", { json: { refresh_token: first.refresh } });
    assert.equal(rotated.status, 200);
    const reused = await call("POST", "/refresh", { json: { refresh_token: first.refresh } });
    assert.equal(reused.status, 401, "reuse after the grace window ends the session");

    const second = await login("ada");
    sessions["second"] = await sessionOf(second.access);
    const third = await login("ada");
    sessions["third"] = await sessionOf(third.access);
    assert.equal((await call("DELETE", `/sessions/${sessions["third"]}`, { token: second.access })).status, 204);
    assert.equal((await call("POST", "/logout", { json: { refresh_token: second.refresh } })).status, 204);
    assert.equal((await call("POST", "/logout", { json: { refresh_token: second.refresh } })).status, 204);

    const fourth = await login("ada");
    sessions["fourth"] = await sessionOf(fourth.access);
    await login("ada");
    const changed = await call("POST", "/password", {
      token: fourth.access,
      json: { current_password: STRONG_PASSWORD, new_password: `${STRONG_PASSWORD} changed` },
    });
    assert.equal(changed.status, 204);
    assert.equal((await call("POST", "/logout-all", { token: fourth.access })).status, 204);

    await server.auth.service.setUserDisabled(adaId, true);
    assert.equal((await login("ada", `${STRONG_PASSWORD} changed`)).status, 401);
    await server.auth.service.setUserDisabled(adaId, false);

    // Three failures for bob, then a flood of throttled attempts: one event tells of them.
    await call("POST", "/register", { json: { username: "bob", password: STRONG_PASSWORD } });
    for (let i = 0; i < 3; i++) assert.equal((await login("bob", WRONG_PASSWORD)).status, 401);
    for (let i = 0; i < 5; i++) assert.equal((await login("bob", WRONG_PASSWORD)).status, 429);

    events = (await server.auth.store.listAuditEvents({ limit: 100 })).reverse();
  });
  after(() => server.close());

  it("records every security event of the flow, in order", () => {
    assert.deepEqual(
      events.map((e) => e.type),
      [
        "user_registered",
        "login_failed",
        "login_failed",
        "login_succeeded",
        "refresh_reused",
        "login_succeeded",
        "login_succeeded",
        "session_revoked",
        "logout",
        "login_succeeded",
        "login_succeeded",
        "password_changed",
        "logout_all",
        "user_disabled",
        "login_failed",
        "user_enabled",
        "user_registered",
        "login_failed",
        "login_failed",
        "login_failed",
        "login_throttled",
      ],
    );
  });

  it("says who, which session, from where and with what, and the details that matter", () => {
    const adaEvents = events.filter((e) => e.userId === adaId);
    const byType = (type: string) => events.filter((e) => e.type === type);
    for (const event of events.filter((e) => !e.type.startsWith("user_"))) {
      assert.equal(event.ip, "127.0.0.1", event.type);
      assert.equal(event.userAgent, UA, event.type);
    }
    const [unknown, wrong, disabled] = byType("login_failed");
    assert.deepEqual([unknown?.userId, unknown?.data], [null, { reason: "unknown_user" }]);
    assert.deepEqual([wrong?.userId, wrong?.data], [adaId, { reason: "wrong_password" }]);
    assert.deepEqual([disabled?.userId, disabled?.data], [adaId, { reason: "account_disabled" }]);
    assert.equal(byType("login_succeeded")[0]?.sessionId, sessions["first"]);
    assert.equal(byType("refresh_reused")[0]?.sessionId, sessions["first"]);
    assert.deepEqual(byType("session_revoked")[0]?.sessionId, sessions["third"]);
    assert.deepEqual(byType("session_revoked")[0]?.data, { current: false });
    assert.equal(byType("logout").length, 1, "a repeated logout changes nothing and records nothing");
    assert.equal(byType("logout")[0]?.sessionId, sessions["second"]);
    assert.deepEqual(byType("password_changed")[0]?.data, { sessions_ended: 1 });
    assert.equal(byType("password_changed")[0]?.sessionId, sessions["fourth"]);
    assert.deepEqual(byType("logout_all")[0]?.data, { sessions_ended: 1 });
    assert.deepEqual(byType("user_disabled")[0]?.data, { sessions_ended: 0 });
    const throttled = byType("login_throttled")[0];
    assert.ok(throttled?.userId && throttled.userId !== adaId, "the throttled account is named by id");
    assert.deepEqual(throttled.data, { action: "login" });
    assert.ok(adaEvents.length >= 14);
  });

  it("keeps no password, token or unknown login name anywhere in its tables", () => {
    const db = new Database(server.databasePath, { readonly: true });
    try {
      const dump = JSON.stringify([
        db.prepare("SELECT * FROM audit_events").all(),
        db.prepare("SELECT * FROM outbox").all(),
      ]);
      assert.ok(secrets.length > 10);
      for (const secret of [...secrets, UNKNOWN_NAME])
        assert.ok(!dump.includes(secret), `found ${secret.slice(0, 12)}…`);
    } finally {
      db.close();
    }
  });

  it("writes no outbox message when no webhook is configured", async () => {
    assert.equal(await server.auth.store.countOutboxBacklog(), 0);
  });
});

describe("an event and its change commit together or not at all", () => {
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-audit-atomic-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** The real SQLite store, except that writing an audit event fails while `failing` is set. */
  function storeFailingAuditWrites(): { store: Store; fail(on: boolean): void } {
    const real = openSqliteStore(join(dir, "gatehouse.db"));
    let failing = false;
    const bound = <T extends object>(target: T, prop: string | symbol) => {
      const value = Reflect.get(target, prop) as unknown;
      return typeof value === "function" ? value.bind(target) : value;
    };
    const failingTx = (tx: TransactionOps): TransactionOps =>
      new Proxy(tx, {
        get: (target, prop) =>
          prop === "insertAuditEvent" && failing
            ? async () => {
                throw new AuthError("unavailable", "The database is unavailable. Try again shortly.");
              }
            : bound(target, prop),
      });
    const store = new Proxy(real, {
      get: (target, prop) =>
        prop === "transaction"
          ? <T>(work: (tx: TransactionOps) => Promise<T>) => target.transaction((tx) => work(failingTx(tx)))
          : bound(target, prop),
    }) as Store;
    return { store, fail: (on) => (failing = on) };
  }

  it("register, login, password change and disable leave nothing behind when the event cannot be written", async () => {
    const { store, fail } = storeFailingAuditWrites();
    const seen: SecurityEvent[] = [];
    const auth = await createGatehouse({
      store,
      logger: createLogger({ level: "silent" }),
      onEvent: (event) => void seen.push(event),
    });
    const caller = { ip: "203.0.113.7", userAgent: "atomic" };
    try {
      fail(true);
      await assert.rejects(auth.service.register("carol", STRONG_PASSWORD, caller), { code: "unavailable" });
      assert.equal(await store.findUserByUsername("carol"), null, "no user without its user_registered event");

      fail(false);
      const user = await auth.service.register("carol", STRONG_PASSWORD, caller);
      fail(true);
      await assert.rejects(auth.service.login("carol", STRONG_PASSWORD, caller), { code: "unavailable" });
      assert.deepEqual(await store.listLiveSessions(user.id, Date.now()), [], "no session without login_succeeded");

      fail(false);
      const grant = await auth.service.login("carol", STRONG_PASSWORD, caller);
      const context = await auth.service.authenticate(grant.accessToken, true);
      fail(true);
      const next = `${STRONG_PASSWORD} but new`;
      await assert.rejects(auth.service.changePassword(context, STRONG_PASSWORD, next, caller), {
        code: "unavailable",
      });
      await assert.rejects(auth.service.setUserDisabled(user.id, true), { code: "unavailable" });
      await assert.rejects(auth.service.logoutAll(user.id, caller), { code: "unavailable" });
      fail(false);
      assert.equal((await store.findUserById(user.id))?.disabledAt, null);
      assert.equal((await auth.service.listSessions(user.id)).length, 1, "the session survived every failed change");
      await auth.service.login("carol", STRONG_PASSWORD, caller);
      assert.deepEqual(
        seen.map((e) => e.type),
        ["user_registered", "login_succeeded", "login_succeeded"],
        "subscribers hear only of what committed",
      );
    } finally {
      await auth.close();
    }
  });
});

describe("in-process subscribers (onEvent)", () => {
  it("hear each event after commit; a failing subscriber is logged and the request still succeeds", async () => {
    const heard: SecurityEvent[] = [];
    const lines: string[] = [];
    const destination = { write: (line: string) => void lines.push(line) };
    const server = await startTestServer({
      onEvent: async (event) => {
        heard.push(event);
        throw new Error("subscriber broke");
      },
    });
    const auth = await createGatehouse({
      database: `sqlite:${server.databasePath}`,
      logger: createLogger({ level: "info", destination }),
      onEvent: () => {
        throw new Error("synchronous subscriber broke");
      },
      backgroundWork: false,
    });
    try {
      const registered = await request(`${server.url}/auth/register`, {
        method: "POST",
        json: { username: "dora", password: STRONG_PASSWORD },
      });
      assert.equal(registered.status, 201);
      await eventually(() => heard.length === 1);
      const stored = await server.auth.store.listAuditEvents({ limit: 1 });
      assert.deepEqual(heard[0], stored[0], "the subscriber gets the event as stored");
      await eventually(() => server.logs.some((line) => line.includes("onEvent subscriber failed")));

      await auth.service.register("erin", STRONG_PASSWORD, { ip: "203.0.113.8", userAgent: null });
      assert.ok(lines.some((line) => line.includes("onEvent subscriber failed") && line.includes("user_registered")));
      assert.ok(!lines.join("").includes(STRONG_PASSWORD));
    } finally {
      await auth.close();
      await server.close();
    }
  });
});
