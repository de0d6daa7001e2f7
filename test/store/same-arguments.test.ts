import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { AuthError } from "../../src/core/errors.ts";
import type { Store } from "../../src/core/store/store.ts";
import { openPostgresStore } from "../../src/store/postgres/driver.ts";
import { numberPlaceholders } from "../../src/store/sql/dialect.ts";
import type { SqlValue } from "../../src/store/sql/statement.ts";
import { definedStatements, statement } from "../../src/store/sql/statement.ts";
import { openSqliteStore } from "../../src/store/sqlite/driver.ts";
import { createThrowawaySchema } from "../helpers/postgres-schema.ts";

/**
 * The two drivers run the same statements: each is written once with `?` placeholders and
 * rendered per dialect, and the SQL store hands both drivers the same values in the same
 * order. Proved on the statements themselves, and by recording what better-sqlite3 and pg
 * actually receive for one scripted sequence that uses every statement.
 */

interface Sent {
  sql: string;
  args: readonly SqlValue[];
}

const T0 = Date.UTC(2031, 4, 6);

/** Uses every operation of the port, with fixed ids and times, and returns what each answered. */
async function script(store: Store): Promise<unknown[]> {
  const seen: unknown[] = [];
  const note = async (value: Promise<unknown>) => seen.push(await value);
  await store.migrate();
  const user = {
    id: "u-1",
    username: "Ada.L",
    passwordHash: "$argon2id$h",
    createdAt: T0,
    disabledAt: null,
    roles: ["admin"],
  };
  await store.insertUser(user);
  await note(
    store.insertUser({ ...user, id: "u-2", username: "ADA.l" }).catch((error: unknown) => (error as AuthError).code),
  );
  await note(store.findUserByUsername("ada.l"));
  await note(store.findUserById("u-1"));
  await note(store.listUsers());
  await store.updatePasswordHash("u-1", "$argon2id$h2");
  await store.setUserDisabled("u-1", T0 + 1);
  await store.setUserRoles("u-1", ["auditor"]);
  await store.insertUser({ ...user, id: "u-3", username: "grace", email: "Grace@Example.com", emailVerifiedAt: T0 });
  await note(store.findUserByEmail("grace@example.com"));
  await store.setUserEmail("u-1", "ada@example.com", null);
  await store.insertMailToken({
    hash: "m-1",
    userId: "u-1",
    purpose: "verify_email",
    email: "ada@example.com",
    createdAt: T0,
    expiresAt: T0 + 10,
    usedAt: null,
  });
  await note(store.findMailToken("m-1"));
  await note(store.useMailToken("m-1", T0 + 1));
  await note(store.voidMailTokens("u-1", "verify_email", T0 + 2));
  await note(store.pruneMailTokens(T0 + 11));

  const session = {
    id: "s-1",
    userId: "u-1",
    createdAt: T0,
    lastUsedAt: T0,
    absoluteExpiresAt: T0 + 10_000,
    idleExpiresAt: T0 + 5_000,
    endedAt: null,
    endReason: null,
    userAgent: "agent",
    ip: "203.0.113.5",
    amr: ["pwd", "otp", "mfa"],
  };
  await store.insertSession(session);
  await store.insertSession({ ...session, id: "s-2" });
  await note(store.findSession("s-1"));
  await note(store.listLiveSessions("u-1", T0 + 1));
  await note(store.listLiveSessionsPage("u-1", T0 + 1, 1, null));
  await note(store.listLiveSessionsPage("u-1", T0 + 1, 5, { createdAt: T0, id: "s-2" }));
  await note(store.listLiveSessionIdsBeyond("u-1", T0 + 1, 1));
  await store.transaction((tx) => tx.lockUserSessions("u-1"));
  await store.touchSession("s-1", T0 + 2, T0 + 6_000);
  await note(
    store.transaction(async (tx) => {
      const inserted = await tx.insertRefreshToken({ hash: "h-1", sessionId: "s-1", createdAt: T0, rotatedAt: null });
      const locked = await tx.lockRefreshToken("h-1");
      const marked = await tx.markRefreshTokenRotated("h-1", T0 + 3);
      return {
        inserted,
        locked,
        marked,
        again: await tx.insertRefreshToken({ hash: "h-1", sessionId: "s-1", createdAt: T0, rotatedAt: null }),
      };
    }),
  );
  await note(store.findRefreshToken("h-1"));
  await note(store.endSession("s-1", T0 + 4, "logout"));
  await note(store.endUserSessions("u-1", T0 + 5, "logout_all", "s-1"));
  await note(store.endUserSessions("u-1", T0 + 5, "logout_all"));
  await note(store.listEndedSessions!({ endedAt: T0, id: "" }, 10));
  await note(store.pruneSessions(T0 + 20_000));

  const key = {
    kid: "k-1",
    alg: "EdDSA",
    privateJwk: "{}",
    publicJwk: "{}",
    createdAt: T0,
    activatesAt: T0,
    retiredAt: null,
    expiresAt: null,
  };
  await store.insertSigningKey(key);
  await store.updateSigningKey("k-1", { retiredAt: T0 + 7 });
  await store.updateSigningKey("k-1", { expiresAt: null });
  await store.updateSigningKey("k-1", {});
  await note(store.listSigningKeys());
  await note(store.getSetting("name"));
  await note(store.putSettingIfAbsent("name", "first"));
  await note(store.putSettingIfAbsent("name", "second"));

  const factor = {
    userId: "u-1",
    sealedSecret: "ghenc1.k.iv.ct",
    createdAt: T0,
    confirmedAt: null,
    lastUsedStep: null,
  };
  await note(store.putPendingTotpFactor(factor));
  await note(store.findTotpFactor("u-1"));
  await note(store.confirmTotpFactor("u-1", T0 + 1, 100));
  await note(store.useTotpStep("u-1", 101));
  await note(store.useTotpStep("u-1", 101));
  await note(store.putPendingTotpFactor(factor));
  await note(store.deleteTotpFactor("u-1"));
  await store.replaceRecoveryCodes("u-1", ["r-1", "r-2"], T0);
  await note(store.useRecoveryCode("u-1", "r-1", T0 + 1));
  await note(store.listUnusedRecoveryCodes("u-1"));
  await store.deleteRecoveryCodes("u-1");
  await store.insertMfaToken({
    hash: "m-1",
    userId: "u-1",
    createdAt: T0,
    expiresAt: T0 + 300_000,
    attempts: 0,
    usedAt: null,
  });
  await note(store.takeMfaTokenAttempt("m-1", T0 + 1, 5));
  await note(store.consumeMfaToken("m-1", T0 + 2));
  await note(store.findLiveMfaToken("m-1", T0 + 3, 5));
  await note(store.pruneMfaTokens(T0 + 400_000));

  const passkey = {
    id: "cred-1",
    userId: "u-1",
    publicKey: "pk",
    counter: 0,
    transports: ["internal"],
    deviceType: "singleDevice",
    backedUp: false,
    name: "Laptop",
    createdAt: T0,
    lastUsedAt: null,
  };
  await note(store.insertPasskey(passkey));
  await note(store.insertPasskey(passkey));
  await store.recordPasskeyUse("cred-1", 3, true, T0 + 1);
  await note(store.renamePasskey("u-1", "cred-1", "Phone"));
  await note(store.findPasskey("cred-1"));
  await note(store.listPasskeys("u-1"));
  await note(store.deletePasskey("u-1", "cred-1"));
  await note(store.deletePasskeys("u-1"));
  await store.insertWebAuthnChallenge({
    hash: "c-1",
    purpose: "login",
    userId: null,
    createdAt: T0,
    expiresAt: T0 + 9,
  });
  await note(store.consumeWebAuthnChallenge("c-1", T0 + 1));
  await note(store.consumeWebAuthnChallenge("c-1", T0 + 1));
  await note(store.pruneWebAuthnChallenges(T0 + 10));
  await store.putSettingIfAbsent("refresh_rotation_key", "rotation");
  await store.putPendingTotpFactor(factor);
  await note(store.listStoredSecrets());
  await note(store.rewriteStoredSecrets((secret) => `sealed:${secret.id}`));

  const message = {
    id: "o-1",
    kind: "webhook",
    payload: '{"n":1}',
    createdAt: T0,
    attempts: 0,
    nextAttemptAt: T0,
    lockedUntil: null,
    deliveredAt: null,
    deadAt: null,
    lastError: null,
  };
  await store.insertOutboxMessage(message);
  await store.insertOutboxMessage({ ...message, id: "o-2" });
  await note(store.claimOutboxMessages({ kind: "webhook", now: T0 + 1, leaseUntil: T0 + 100, limit: 5 }));
  await note(store.findOutboxMessage("o-1"));
  await note(store.markOutboxDelivered("o-1", T0 + 2));
  await note(
    store.markOutboxFailed("o-2", { attempts: 1, lastError: "HTTP 500", nextAttemptAt: T0 + 50, deadAt: null }),
  );
  await note(store.countOutboxBacklog());
  await note(store.pruneOutbox(T0 + 3, T0 + 3));
  await store.insertOutboxMessage({ ...message, id: "o-3", payload: "ghenc1.k.iv.body" });
  await note(
    store.rewriteStoredSecrets((secret) => (secret.column === "outbox.payload" ? "ghenc1.k2.iv.body" : undefined)),
  );

  const event = {
    id: "0000018f-0000-7000-8000-000000000001",
    at: T0,
    type: "login_failed",
    userId: "u-1",
    sessionId: null,
    ip: "203.0.113.5",
    userAgent: "agent",
    data: { reason: "wrong_password" },
  };
  await store.insertAuditEvent(event);
  await store.insertAuditEvent({ ...event, id: "0000018f-0000-7000-8000-000000000002", at: T0 + 1 });
  await note(store.listAuditEvents({ userId: "u-1", limit: 5 }));
  await note(store.listAuditEvents({ userId: "u-1", before: "0000018f-0000-7000-8000-000000000002", limit: 5 }));
  await note(store.listAuditEvents({ type: "login_failed", since: T0, limit: 5 }));
  await note(store.pruneAuditEvents(T0 + 1));
  await store.ping();
  return seen;
}

/**
 * The statement as both databases share it: PostgreSQL appends FOR UPDATE (SKIP LOCKED) to a locking read,
 * and wraps a write that announces its rows on the change feed (SQLite returns the rows instead).
 */
function shared(sql: string, dialect: "sqlite" | "postgres"): string {
  if (dialect === "sqlite") return numberPlaceholders(sql.replace(/ RETURNING [a-z_, ]+$/, "")).text;
  const announced = /^WITH changed AS \((.*) RETURNING [a-z_, ]+\) SELECT .* FROM changed$/s.exec(sql);
  return (announced ? announced[1]! : sql).replace(/ FOR UPDATE( SKIP LOCKED)?$/, "");
}

/** Statements only PostgreSQL runs (its own way of doing a capability) are not compared. */
const postgresOnly = new Set(
  definedStatements()
    .filter((s) => s.onlyFor === "postgres")
    .map((s) => s.text.postgres),
);

/** The migration bookkeeping records the time it ran; everything else is fixed by the script. */
function withoutClock(sent: Sent[]): Sent[] {
  return sent.map(({ sql, args }) =>
    sql.startsWith("INSERT INTO schema_migrations") ? { sql, args: [...args.slice(0, -1), "<now>"] } : { sql, args },
  );
}

describe("every statement, rendered for each dialect", () => {
  const all = definedStatements();

  it("the catalogue is complete and every name is unique", () => {
    assert.ok(all.length >= 25, `${all.length} statements`);
    assert.equal(new Set(all.map((s) => s.name)).size, all.length);
    assert.throws(() => statement("insertUser", "SELECT 1"), /Two SQL statements are named "insertUser"/);
  });

  it("binds $1…$n in order on PostgreSQL and the same number of ? on SQLite", () => {
    for (const { name, text, arity, onlyFor } of all) {
      const numbers = [...text.postgres.matchAll(/\$(\d+)/g)].map((match) => Number(match[1]));
      assert.deepEqual(
        numbers,
        Array.from({ length: arity }, (_, i) => i + 1),
        name,
      );
      assert.ok(!text.postgres.includes("?"), `${name}: a ? left for PostgreSQL`);
      if (onlyFor === "postgres") continue;
      assert.equal(text.sqlite.split("?").length - 1, arity, name);
      assert.ok(!/\$\d/.test(text.sqlite), `${name}: a $n in SQLite's text`);
      assert.equal(shared(text.postgres, "postgres"), shared(text.sqlite, "sqlite"), name);
    }
  });

  it("only a locking read takes row locks, and only PostgreSQL needs FOR UPDATE for it", () => {
    const locking = all.filter((s) => s.text.postgres.endsWith(" FOR UPDATE")).map((s) => s.name);
    assert.deepEqual(locking.sort(), [
      "gatehouse_lockRefreshToken",
      "gatehouse_lockSecrets_outbox_payload",
      "gatehouse_lockSecrets_settings_value",
      "gatehouse_lockSecrets_signing_keys_private_jwk",
      "gatehouse_lockSecrets_totp_factors_sealed_secret",
      "gatehouse_lockUserSessions",
    ]);
    const skipping = all.filter((s) => s.text.postgres.endsWith(" FOR UPDATE SKIP LOCKED")).map((s) => s.name);
    assert.deepEqual(skipping, ["gatehouse_selectDueOutboxMessages"]);
    assert.ok(all.every((s) => s.onlyFor === "postgres" || !s.text.sqlite.includes("FOR UPDATE")));
  });

  it("numberPlaceholders leaves question marks inside quotes alone", () => {
    assert.deepEqual(numberPlaceholders("SELECT '?', \"a?\" FROM t WHERE a = ? AND b = 'it''s ?' AND c = ?"), {
      text: "SELECT '?', \"a?\" FROM t WHERE a = $1 AND b = 'it''s ?' AND c = $2",
      count: 2,
    });
  });
});

describe("what the two drivers receive for one scripted sequence", () => {
  it("is the same statements with the same arguments in the same order, covering every statement", async () => {
    const sqliteSent: Sent[] = [];
    const sqlite = openSqliteStore(":memory:", { trace: (sql, args) => sqliteSent.push({ sql, args: [...args] }) });
    const db = await createThrowawaySchema("gatehouse_args");
    const postgresSent: Sent[] = [];
    const postgres = openPostgresStore(db.url, {
      schema: db.schema,
      trace: (sql, args) => postgresSent.push({ sql, args: [...args] }),
    });
    let answers: [unknown[], unknown[]];
    try {
      answers = [await script(sqlite), await script(postgres)];
    } finally {
      await sqlite.close();
      await postgres.close();
      await db.drop();
    }

    assert.deepEqual(answers[1], answers[0], "both databases answer the same");
    const [fromSqlite, fromPostgres] = [
      withoutClock(sqliteSent),
      withoutClock(postgresSent.filter((sent) => !postgresOnly.has(sent.sql))),
    ];
    assert.equal(fromPostgres.length, fromSqlite.length);
    fromSqlite.forEach((sent, i) => {
      const other = fromPostgres[i]!;
      assert.deepEqual(other.args, sent.args, `arguments of statement ${i}: ${sent.sql}`);
      assert.equal(shared(other.sql, "postgres"), shared(sent.sql, "sqlite"), `text of statement ${i}`);
      assert.equal(numberPlaceholders(sent.sql).count, sent.args.length, `values for every placeholder: ${sent.sql}`);
    });
    // The PostgreSQL-only statements have their own tests (the store contract runs them).
    const unused = definedStatements().filter(
      (s) => s.onlyFor === undefined && !sqliteSent.some((sent) => sent.sql === s.text.sqlite),
    );
    assert.deepEqual(
      unused.map((s) => s.name),
      [],
      "the script runs every statement",
    );
  });
});
