import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import Database from "better-sqlite3";
import { AuthError } from "../../src/core/errors.ts";
import type { Store, TransactionOps } from "../../src/core/store/store.ts";
import { openSqliteStore } from "../../src/store/sqlite/driver.ts";
import { request, STRONG_PASSWORD } from "../helpers/http.ts";
import { startTestServer, type TestServer } from "../helpers/test-server.ts";
import { linkToken, startSmtpServer, type TestSmtpServer, to } from "./smtp-test-server.ts";

const NEW_PASSWORD = "a brand new passphrase for 2030";
const post = (url: string, json: unknown) => request(url, { method: "POST", json });

/**
 * The real SQLite store, except that while `failing` is set, ending a user's sessions inside a
 * transaction fails as a lost database would: the transaction must roll back whole.
 */
function storeFailingMidReset(path: string): { store: Store; failing: { on: boolean } } {
  const real = openSqliteStore(path);
  const failing = { on: false };
  const store = new Proxy(real, {
    get(target, property, receiver) {
      if (property !== "transaction") {
        // Methods run on the real store (its private fields are not the proxy's).
        const value = Reflect.get(target, property, receiver);
        return typeof value === "function" ? value.bind(target) : value;
      }
      return <T>(work: (tx: TransactionOps) => Promise<T>) =>
        target.transaction((tx) =>
          work(
            new Proxy(tx, {
              get(txTarget, name, txReceiver) {
                if (name === "endUserSessions" && failing.on) {
                  return async () => {
                    throw new AuthError("unavailable", "The database is unavailable.");
                  };
                }
                const value = Reflect.get(txTarget, name, txReceiver);
                return typeof value === "function" ? value.bind(txTarget) : value;
              },
            }),
          ),
        );
    },
  });
  return { store, failing };
}

describe("a reset whose transaction fails changes nothing and sends nothing", () => {
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-atomic-"));
  const path = join(dir, "gatehouse.db");
  let smtp: TestSmtpServer;
  let server: TestServer;
  let failing: { on: boolean };
  before(async () => {
    smtp = await startSmtpServer();
    const wrapped = storeFailingMidReset(path);
    failing = wrapped.failing;
    server = await startTestServer({ store: wrapped.store, email: { smtpUrl: smtp.url } });
  });
  after(async () => {
    await server?.close();
    await smtp.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("503, the link still works, the old password still works, no notice; then it succeeds", async () => {
    const email = "atomic@example.test";
    await post(`${server.url}/auth/register`, { username: "atomic", password: STRONG_PASSWORD, email });
    const [verify] = await smtp.waitFor(to(email));
    assert.equal((await post(`${server.url}/auth/email/verify`, { token: linkToken(verify!, "verify") })).status, 204);
    assert.equal((await post(`${server.url}/auth/password/forgot`, { email })).status, 202);
    const [resetMail] = await smtp.waitFor((m) => to(email)(m) && m.parsed.subject === "Reset your password");
    const token = linkToken(resetMail!, "reset");

    // At rest: the outbox row holding the link is sealed, and mail_tokens has only a hash.
    const raw = new Database(path, { readonly: true });
    try {
      const dump = JSON.stringify([
        raw.prepare("SELECT * FROM outbox").all(),
        raw.prepare("SELECT * FROM mail_tokens").all(),
      ]);
      assert.ok(!dump.includes(token), "no usable link in the database");
    } finally {
      raw.close();
    }

    failing.on = true;
    const failed = await post(`${server.url}/auth/password/reset`, { token, new_password: NEW_PASSWORD });
    assert.equal(failed.status, 503);
    failing.on = false;
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(smtp.received.filter((m) => m.parsed.subject === "Your password was reset").length, 0);
    const login = await post(`${server.url}/auth/login`, { email, password: STRONG_PASSWORD });
    assert.equal(login.status, 200, "the password did not change");

    assert.equal((await post(`${server.url}/auth/password/reset`, { token, new_password: NEW_PASSWORD })).status, 204);
    await smtp.waitFor((m) => to(email)(m) && m.parsed.subject === "Your password was reset");
    assert.equal((await post(`${server.url}/auth/login`, { email, password: NEW_PASSWORD })).status, 200);
  });
});
