import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { setTimeout as delay, setImmediate as yieldToEventLoop } from "node:timers/promises";
import { afterEach, describe, it } from "node:test";
import { AuthError } from "../../src/core/errors.ts";
import type { RefreshRotationRequest } from "../../src/core/store/refresh-rotation.ts";
import { EmailTakenError } from "../../src/core/store/users.ts";
import type {
  AuditEventRecord,
  MailTokenRecord,
  OutboxRecord,
  RefreshTokenRecord,
  SessionRecord,
  SigningKeyRecord,
  Store,
  StoreChange,
  UserRecord,
} from "../../src/core/store/store.ts";

const T0 = Date.UTC(2030, 0, 1);
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

export function makeUser(overrides: Partial<UserRecord> = {}): UserRecord {
  return {
    id: randomUUID(),
    username: `user-${randomUUID().slice(0, 8)}`,
    passwordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo",
    createdAt: T0,
    disabledAt: null,
    roles: [],
    email: null,
    emailVerifiedAt: null,
    ...overrides,
  };
}

export function makeSession(userId: string, overrides: Partial<SessionRecord> = {}): SessionRecord {
  return {
    id: randomUUID(),
    userId,
    createdAt: T0,
    lastUsedAt: T0,
    absoluteExpiresAt: T0 + 24 * HOUR,
    idleExpiresAt: T0 + HOUR,
    endedAt: null,
    endReason: null,
    userAgent: null,
    ip: null,
    amr: ["pwd"],
    ...overrides,
  };
}

export function makeToken(sessionId: string, overrides: Partial<RefreshTokenRecord> = {}): RefreshTokenRecord {
  return { hash: randomUUID(), sessionId, createdAt: T0, rotatedAt: null, ...overrides };
}

function makeKey(overrides: Partial<SigningKeyRecord> = {}): SigningKeyRecord {
  const kid = randomUUID();
  return {
    kid,
    alg: "EdDSA",
    privateJwk: JSON.stringify({ kty: "OKP", crv: "Ed25519", d: "private", x: kid }),
    publicJwk: JSON.stringify({ kty: "OKP", crv: "Ed25519", x: kid }),
    createdAt: T0,
    activatesAt: T0,
    retiredAt: null,
    expiresAt: null,
    ...overrides,
  };
}

export function makeOutboxMessage(overrides: Partial<OutboxRecord> = {}): OutboxRecord {
  return {
    id: randomUUID(),
    kind: "webhook",
    payload: '{"n":1}',
    createdAt: T0,
    attempts: 0,
    nextAttemptAt: T0,
    lockedUntil: null,
    deliveredAt: null,
    deadAt: null,
    lastError: null,
    ...overrides,
  };
}

/** Ids sort like the times they were made at: a fixed-width hex prefix from `n`, then a random tail. */
export function makeAuditEvent(n: number, overrides: Partial<AuditEventRecord> = {}): AuditEventRecord {
  const prefix = n.toString(16).padStart(12, "0");
  const id = `${prefix.slice(0, 8)}-${prefix.slice(8)}-7${randomUUID().slice(15)}`;
  return {
    id,
    at: T0 + n,
    type: "login_succeeded",
    userId: "u1",
    sessionId: null,
    ip: "203.0.113.9",
    userAgent: "agent/1.0",
    data: {},
    ...overrides,
  };
}

function isAuthErrorWithCode(code: string): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof AuthError, `expected an AuthError, got ${String(error)}`);
    assert.equal(error.code, code);
    return true;
  };
}

/**
 * The behaviour every Store must have, as node:test suites. `open` returns a fresh, empty,
 * not yet migrated store; the suite migrates it and closes it after each test.
 */
export function storeContract(name: string, open: () => Promise<Store>): void {
  describe(`Store contract: ${name}`, () => {
    const opened: Store[] = [];
    const fresh = async (): Promise<Store> => {
      const store = await open();
      opened.push(store);
      await store.migrate();
      return store;
    };
    afterEach(async () => {
      for (const store of opened.splice(0)) await store.close();
    });

    describe("schema", () => {
      it("migrate() is idempotent and keeps existing rows", async () => {
        const store = await fresh();
        const user = makeUser();
        await store.insertUser(user);
        await store.migrate();
        await store.migrate();
        assert.deepEqual(await store.findUserById(user.id), user);
      });

      it("ping() resolves on a working database", async () => {
        const store = await fresh();
        await store.ping();
      });

      it("schemaIsCurrent() is true once migrate() has run", async () => {
        const store = await fresh();
        assert.equal(await store.schemaIsCurrent(), true);
      });
    });

    describe("users", () => {
      it("round-trips every field, roles included, by id and by username", async () => {
        const store = await fresh();
        const user = makeUser({ username: "Alice", roles: ["admin", "billing"], disabledAt: T0 + 5 });
        await store.insertUser(user);
        assert.deepEqual(await store.findUserById(user.id), user);
        assert.deepEqual(await store.findUserByUsername("Alice"), user);
        const plain = makeUser();
        await store.insertUser(plain);
        assert.deepEqual((await store.findUserById(plain.id))?.roles, []);
      });

      it("finds usernames case-insensitively but keeps the display form", async () => {
        const store = await fresh();
        const user = makeUser({ username: "MiXeD.Case" });
        await store.insertUser(user);
        assert.equal((await store.findUserByUsername("mixed.case"))?.id, user.id);
        assert.equal((await store.findUserByUsername("MIXED.CASE"))?.username, "MiXeD.Case");
        assert.equal(await store.findUserByUsername("mixed-case"), null);
        assert.equal(await store.findUserById(randomUUID()), null);
      });

      it("rejects a username that differs only in case or Unicode width with username_taken", async () => {
        const store = await fresh();
        await store.insertUser(makeUser({ username: "Alice" }));
        for (const variant of ["alice", "ALICE", "Ａｌｉｃｅ"]) {
          await assert.rejects(store.insertUser(makeUser({ username: variant })), (error) => {
            isAuthErrorWithCode("username_taken")(error);
            assert.equal((error as AuthError).message, "That username is taken. Choose another one.");
            return true;
          });
        }
        assert.equal((await store.listUsers()).length, 1);
      });

      it("lists users and updates password hash, disabled flag and roles", async () => {
        const store = await fresh();
        const first = makeUser({ createdAt: T0 });
        const second = makeUser({ createdAt: T0 + 1 });
        await store.insertUser(second);
        await store.insertUser(first);
        assert.deepEqual(
          (await store.listUsers()).map((u) => u.id),
          [first.id, second.id],
          "oldest first",
        );

        await store.updatePasswordHash(first.id, "$argon2id$new");
        await store.setUserDisabled(first.id, T0 + 10);
        await store.setUserRoles(first.id, ["auditor"]);
        assert.deepEqual(await store.findUserById(first.id), {
          ...first,
          passwordHash: "$argon2id$new",
          disabledAt: T0 + 10,
          roles: ["auditor"],
        });
        await store.setUserDisabled(first.id, null);
        assert.equal((await store.findUserById(first.id))?.disabledAt, null);
        assert.deepEqual(await store.findUserById(second.id), second, "other users untouched");
      });
    });

    describe("user email addresses", () => {
      it("round-trips the address and its verification, finds it ignoring case, and keeps it unique", async () => {
        const store = await fresh();
        const user = makeUser({ email: "Ada.L@Example.com", emailVerifiedAt: T0 + 1 });
        await store.insertUser(user);
        assert.deepEqual(await store.findUserById(user.id), user);
        assert.deepEqual(await store.findUserByEmail("ada.l@EXAMPLE.COM"), user);
        assert.equal(await store.findUserByEmail("ada@example.com"), null);
        await assert.rejects(store.insertUser(makeUser({ email: "ADA.L@example.com" })), EmailTakenError);
        // Accounts without an address never collide.
        await store.insertUser(makeUser());
        await store.insertUser(makeUser());
        assert.equal((await store.listUsers()).length, 3);
      });

      it("setUserEmail sets, moves and removes an address; a taken one is refused and nothing changes", async () => {
        const store = await fresh();
        const a = makeUser();
        const b = makeUser({ email: "b@example.com", emailVerifiedAt: T0 });
        await store.insertUser(a);
        await store.insertUser(b);
        await store.setUserEmail(a.id, "new@example.com", null);
        assert.equal((await store.findUserByEmail("NEW@example.com"))?.id, a.id);
        assert.equal((await store.findUserById(a.id))?.emailVerifiedAt, null);
        await assert.rejects(store.setUserEmail(a.id, "B@EXAMPLE.COM", T0), EmailTakenError);
        assert.equal((await store.findUserById(a.id))?.email, "new@example.com");
        await store.setUserEmail(a.id, "new@example.com", T0 + 9);
        assert.equal((await store.findUserById(a.id))?.emailVerifiedAt, T0 + 9);
        await store.setUserEmail(b.id, null, T0);
        const cleared = await store.findUserById(b.id);
        assert.deepEqual([cleared?.email, cleared?.emailVerifiedAt], [null, null]);
        assert.equal(await store.findUserByEmail("b@example.com"), null);
      });
    });

    describe("mail tokens", () => {
      const token = (userId: string, overrides: Partial<MailTokenRecord> = {}): MailTokenRecord => ({
        hash: randomUUID(),
        userId,
        purpose: "verify_email",
        email: "a@example.com",
        createdAt: T0,
        expiresAt: T0 + HOUR,
        usedAt: null,
        ...overrides,
      });

      it("round-trips, is used once, voids by user and purpose, prunes expired ones", async () => {
        const store = await fresh();
        const user = makeUser();
        await store.insertUser(user);
        const verify = token(user.id);
        const reset = token(user.id, { purpose: "reset_password", expiresAt: T0 + 2 * HOUR });
        await store.insertMailToken(verify);
        await store.insertMailToken(reset);
        assert.deepEqual(await store.findMailToken(verify.hash), verify);
        assert.equal(await store.findMailToken("nope"), null);
        const uses = await Promise.all([1, 2, 3].map(() => store.useMailToken(verify.hash, T0 + 5)));
        assert.deepEqual(uses.sort(), [false, false, true]);
        assert.equal((await store.findMailToken(verify.hash))?.usedAt, T0 + 5);
        assert.equal(await store.voidMailTokens(user.id, "verify_email", T0 + 6), 0);
        assert.equal(await store.voidMailTokens(user.id, "reset_password", T0 + 6), 1);
        assert.equal((await store.findMailToken(reset.hash))?.usedAt, T0 + 6);
        assert.equal(await store.useMailToken(reset.hash, T0 + 7), false);
        assert.equal(await store.pruneMailTokens(T0 + HOUR + 1), 1);
        assert.equal(await store.findMailToken(verify.hash), null);
        assert.notEqual(await store.findMailToken(reset.hash), null);
      });
    });

    describe("sessions", () => {
      it("round-trips every field and ends a session only once", async () => {
        const store = await fresh();
        const session = makeSession("u1", { userAgent: "Mozilla/5.0", ip: "203.0.113.7" });
        await store.insertSession(session);
        assert.deepEqual(await store.findSession(session.id), session);
        assert.equal(await store.findSession(randomUUID()), null);

        assert.equal(await store.endSession(session.id, T0 + 5, "logout"), true);
        assert.equal(await store.endSession(session.id, T0 + 9, "again"), false);
        assert.deepEqual(await store.findSession(session.id), { ...session, endedAt: T0 + 5, endReason: "logout" });
        assert.equal(await store.endSession(randomUUID(), T0, "logout"), false);
      });

      it("touchSession moves lastUsedAt and the idle end", async () => {
        const store = await fresh();
        const session = makeSession("u1");
        await store.insertSession(session);
        await store.touchSession(session.id, T0 + 30 * MINUTE, T0 + 90 * MINUTE);
        const touched = await store.findSession(session.id);
        assert.equal(touched?.lastUsedAt, T0 + 30 * MINUTE);
        assert.equal(touched?.idleExpiresAt, T0 + 90 * MINUTE);
        assert.equal(touched?.absoluteExpiresAt, session.absoluteExpiresAt);
      });

      it("listLiveSessions returns open, unexpired sessions of that user, newest first", async () => {
        const store = await fresh();
        const now = T0 + 2 * HOUR;
        const older = makeSession("u1", { createdAt: T0, idleExpiresAt: now + 1 });
        const newer = makeSession("u1", { createdAt: T0 + MINUTE, idleExpiresAt: now + HOUR });
        const ended = makeSession("u1", {
          createdAt: T0 + 2 * MINUTE,
          idleExpiresAt: now + HOUR,
          endedAt: T0 + 3 * MINUTE,
          endReason: "logout",
        });
        const idleExpired = makeSession("u1", { createdAt: T0 + 3 * MINUTE, idleExpiresAt: now });
        const absoluteExpired = makeSession("u1", {
          createdAt: T0 + 4 * MINUTE,
          idleExpiresAt: now + HOUR,
          absoluteExpiresAt: now,
        });
        const otherUser = makeSession("u2", { createdAt: T0 + 5 * MINUTE, idleExpiresAt: now + HOUR });
        for (const s of [older, newer, ended, idleExpired, absoluteExpired, otherUser]) await store.insertSession(s);

        assert.deepEqual(await store.listLiveSessions("u1", now), [newer, older]);
        assert.deepEqual(
          (await store.listLiveSessions("u1", now + 2)).map((s) => s.id),
          [newer.id],
          "a moment later the older one has idled out",
        );
        assert.deepEqual(await store.listLiveSessions("nobody", now), []);
      });

      it("endUserSessions ends every open session of the user except the one named", async () => {
        const store = await fresh();
        const keep = makeSession("u1");
        const a = makeSession("u1");
        const b = makeSession("u1");
        const alreadyEnded = makeSession("u1", { endedAt: T0 + 1, endReason: "logout" });
        const otherUser = makeSession("u2");
        for (const s of [keep, a, b, alreadyEnded, otherUser]) await store.insertSession(s);

        assert.equal(await store.endUserSessions("u1", T0 + 50, "password_changed", keep.id), 2);
        assert.equal((await store.findSession(a.id))?.endReason, "password_changed");
        assert.equal((await store.findSession(b.id))?.endedAt, T0 + 50);
        assert.equal((await store.findSession(keep.id))?.endedAt, null);
        assert.deepEqual(
          await store.findSession(alreadyEnded.id),
          alreadyEnded,
          "an ended session keeps its first end",
        );
        assert.equal((await store.findSession(otherUser.id))?.endedAt, null);

        assert.equal(
          await store.endUserSessions("u1", T0 + 60, "logout_all"),
          1,
          "without an exception, the kept one ends too",
        );
        assert.equal((await store.findSession(keep.id))?.endReason, "logout_all");
        assert.equal(await store.endUserSessions("u1", T0 + 70, "logout_all"), 0);
      });

      it("pruneSessions deletes ended and expired sessions with their refresh tokens", async () => {
        const store = await fresh();
        const cutoff = T0 + 10 * HOUR;
        const live = makeSession("u1", { idleExpiresAt: cutoff + HOUR });
        const endedLongAgo = makeSession("u1", {
          idleExpiresAt: cutoff + HOUR,
          endedAt: cutoff - 1,
          endReason: "logout",
        });
        const endedRecently = makeSession("u1", {
          idleExpiresAt: cutoff + HOUR,
          endedAt: cutoff + 1,
          endReason: "logout",
        });
        const idledOut = makeSession("u1", { idleExpiresAt: cutoff - 1 });
        const pastAbsolute = makeSession("u1", { idleExpiresAt: cutoff + HOUR, absoluteExpiresAt: cutoff - 1 });
        const sessions = [live, endedLongAgo, endedRecently, idledOut, pastAbsolute];
        const tokens = new Map<string, RefreshTokenRecord>();
        for (const s of sessions) {
          await store.insertSession(s);
          const token = makeToken(s.id);
          tokens.set(s.id, token);
          assert.equal(await store.insertRefreshToken(token), true);
        }

        assert.equal(await store.pruneSessions(cutoff), 3);
        for (const s of [live, endedRecently]) {
          assert.deepEqual(await store.findSession(s.id), s);
          assert.deepEqual(await store.findRefreshToken(tokens.get(s.id)!.hash), tokens.get(s.id));
        }
        for (const s of [endedLongAgo, idledOut, pastAbsolute]) {
          assert.equal(await store.findSession(s.id), null);
          assert.equal(await store.findRefreshToken(tokens.get(s.id)!.hash), null, "token deleted with its session");
        }
        assert.equal(await store.pruneSessions(cutoff), 0);
      });
    });

    describe("second factors", () => {
      const totp = (userId: string, sealedSecret = "sealed-1") => ({
        userId,
        sealedSecret,
        createdAt: T0,
        confirmedAt: null,
        lastUsedStep: null,
      });

      it("keeps a pending TOTP factor replaceable and a confirmed one fixed", async () => {
        const store = await fresh();
        const user = makeUser();
        await store.insertUser(user);
        assert.equal(await store.putPendingTotpFactor(totp(user.id)), true);
        assert.equal(await store.putPendingTotpFactor(totp(user.id, "sealed-2")), true);
        assert.equal((await store.findTotpFactor(user.id))?.sealedSecret, "sealed-2");
        assert.equal(await store.confirmTotpFactor(user.id, T0 + 1, 40), true);
        assert.equal(await store.confirmTotpFactor(user.id, T0 + 2, 41), false);
        assert.equal(await store.putPendingTotpFactor(totp(user.id, "sealed-3")), false);
        assert.deepEqual(await store.findTotpFactor(user.id), {
          ...totp(user.id, "sealed-2"),
          confirmedAt: T0 + 1,
          lastUsedStep: 40,
        });
        assert.equal(await store.deleteTotpFactor(user.id), true);
        assert.equal(await store.findTotpFactor(user.id), null);
        assert.equal(await store.deleteTotpFactor(user.id), false);
      });

      it("accepts each time step once, later steps only, and one of parallel uses of a step", async () => {
        const store = await fresh();
        const user = makeUser();
        await store.insertUser(user);
        await store.putPendingTotpFactor(totp(user.id));
        assert.equal(await store.useTotpStep(user.id, 50), false, "a pending factor accepts no code");
        await store.confirmTotpFactor(user.id, T0, 50);
        assert.equal(await store.useTotpStep(user.id, 50), false);
        assert.equal(await store.useTotpStep(user.id, 49), false);
        const parallel = await Promise.all(Array.from({ length: 8 }, () => store.useTotpStep(user.id, 51)));
        assert.equal(parallel.filter(Boolean).length, 1);
      });

      it("replaces recovery codes and uses each one once", async () => {
        const store = await fresh();
        const user = makeUser();
        await store.insertUser(user);
        await store.replaceRecoveryCodes(user.id, ["a", "b"], T0);
        await store.replaceRecoveryCodes(user.id, ["c", "d", "e"], T0 + 1);
        assert.deepEqual(
          (await store.listUnusedRecoveryCodes(user.id)).map((c) => c.hash),
          ["c", "d", "e"],
        );
        const parallel = await Promise.all(
          Array.from({ length: 4 }, () => store.useRecoveryCode(user.id, "d", T0 + 2)),
        );
        assert.equal(parallel.filter(Boolean).length, 1);
        assert.equal(await store.useRecoveryCode(user.id, "a", T0 + 2), false);
        assert.deepEqual(
          (await store.listUnusedRecoveryCodes(user.id)).map((c) => c.hash),
          ["c", "e"],
        );
        await store.deleteRecoveryCodes(user.id);
        assert.deepEqual(await store.listUnusedRecoveryCodes(user.id), []);
      });

      it("hands out at most maxAttempts tries of an mfa token, even in parallel, and none once used or expired", async () => {
        const store = await fresh();
        const user = makeUser();
        await store.insertUser(user);
        const token = { hash: "m1", userId: user.id, createdAt: T0, expiresAt: T0 + 1000, attempts: 0, usedAt: null };
        await store.insertMfaToken(token);
        const tries = await Promise.all(Array.from({ length: 12 }, () => store.takeMfaTokenAttempt("m1", T0, 5)));
        assert.equal(tries.filter((t) => t !== null).length, 5);
        assert.equal(await store.takeMfaTokenAttempt("m1", T0, 5), null);
        await store.insertMfaToken({ ...token, hash: "m2" });
        assert.equal(await store.takeMfaTokenAttempt("m2", T0 + 1000, 5), null, "expired");
        assert.deepEqual(await store.takeMfaTokenAttempt("m2", T0, 5), { ...token, hash: "m2", attempts: 1 });
        assert.equal(await store.consumeMfaToken("m2", T0 + 1), true);
        assert.equal(await store.consumeMfaToken("m2", T0 + 1), false);
        assert.equal(await store.takeMfaTokenAttempt("m2", T0 + 2, 5), null, "used");
        assert.equal(await store.takeMfaTokenAttempt("nope", T0, 5), null);
        assert.equal(await store.pruneMfaTokens(T0 + 1001), 2);
      });

      it("stores passkeys per user: insert once, list, use, rename, remove", async () => {
        const store = await fresh();
        const [alice, bob] = [makeUser(), makeUser()];
        await store.insertUser(alice);
        await store.insertUser(bob);
        const passkey = {
          id: "cred-A",
          userId: alice.id,
          publicKey: "pkA",
          counter: 0,
          transports: ["internal", "hybrid"],
          deviceType: "multiDevice",
          backedUp: true,
          name: "Laptop",
          createdAt: T0,
          lastUsedAt: null,
        };
        assert.equal(await store.insertPasskey(passkey), true);
        assert.equal(await store.insertPasskey({ ...passkey, userId: bob.id }), false, "credential ids are unique");
        await store.insertPasskey({ ...passkey, id: "cred-B", createdAt: T0 + 1 });
        assert.deepEqual(await store.findPasskey("cred-A"), passkey);
        await store.recordPasskeyUse("cred-A", 7, false, T0 + 5);
        assert.deepEqual(await store.findPasskey("cred-A"), {
          ...passkey,
          counter: 7,
          backedUp: false,
          lastUsedAt: T0 + 5,
        });
        assert.equal(await store.renamePasskey(bob.id, "cred-A", "Stolen"), false, "only the owner renames");
        assert.equal(await store.renamePasskey(alice.id, "cred-A", "Phone"), true);
        assert.deepEqual(
          (await store.listPasskeys(alice.id)).map((p) => [p.id, p.name]),
          [
            ["cred-A", "Phone"],
            ["cred-B", "Laptop"],
          ],
        );
        assert.equal(await store.deletePasskey(bob.id, "cred-A"), false);
        assert.equal(await store.deletePasskey(alice.id, "cred-A"), true);
        assert.equal(await store.deletePasskeys(alice.id), 1);
        assert.deepEqual(await store.listPasskeys(alice.id), []);
      });

      it("hands out a WebAuthn challenge once, even to parallel answers, and not after it expires", async () => {
        const store = await fresh();
        const user = makeUser();
        await store.insertUser(user);
        const challenge = { hash: "c1", purpose: "register", userId: user.id, createdAt: T0, expiresAt: T0 + 1000 };
        await store.insertWebAuthnChallenge(challenge);
        const answers = await Promise.all(Array.from({ length: 6 }, () => store.consumeWebAuthnChallenge("c1", T0)));
        assert.deepEqual(
          answers.filter((a) => a !== null),
          [challenge],
        );
        await store.insertWebAuthnChallenge({ ...challenge, hash: "c2", userId: null, purpose: "login" });
        assert.equal(await store.consumeWebAuthnChallenge("c2", T0 + 1000), null);
        assert.equal(await store.pruneWebAuthnChallenges(T0 + 1001), 2);
      });

      it("finds a live mfa token without taking a try", async () => {
        const store = await fresh();
        const user = makeUser();
        await store.insertUser(user);
        const token = { hash: "m1", userId: user.id, createdAt: T0, expiresAt: T0 + 1000, attempts: 0, usedAt: null };
        await store.insertMfaToken(token);
        assert.deepEqual(await store.findLiveMfaToken("m1", T0, 5), token);
        assert.deepEqual(await store.findLiveMfaToken("m1", T0, 5), token);
        assert.equal(await store.findLiveMfaToken("m1", T0 + 1000, 5), null);
        assert.equal(await store.findLiveMfaToken("m1", T0, 0), null);
      });

      it("stores a session's amr", async () => {
        const store = await fresh();
        const session = makeSession(randomUUID(), { amr: ["pwd", "otp", "mfa"] });
        await store.insertSession(session);
        assert.deepEqual((await store.findSession(session.id))?.amr, ["pwd", "otp", "mfa"]);
      });
    });

    describe("refresh tokens", () => {
      it("inserts once; a second insert of the same hash returns false and changes nothing", async () => {
        const store = await fresh();
        const session = makeSession("u1");
        await store.insertSession(session);
        const token = makeToken(session.id);
        assert.equal(await store.insertRefreshToken(token), true);
        assert.equal(await store.insertRefreshToken({ ...token, createdAt: T0 + 99 }), false);
        assert.deepEqual(await store.findRefreshToken(token.hash), token);
        assert.equal(await store.findRefreshToken("no-such-hash"), null);
      });

      it("markRefreshTokenRotated succeeds only for the first caller", async () => {
        const store = await fresh();
        const session = makeSession("u1");
        await store.insertSession(session);
        const token = makeToken(session.id);
        await store.insertRefreshToken(token);
        assert.equal(await store.markRefreshTokenRotated(token.hash, T0 + 1), true);
        assert.equal(await store.markRefreshTokenRotated(token.hash, T0 + 2), false);
        assert.equal((await store.findRefreshToken(token.hash))?.rotatedAt, T0 + 1);
        assert.equal(await store.markRefreshTokenRotated("no-such-hash", T0), false);
      });
    });

    describe("refresh rotation (rotateRefreshToken)", () => {
      const IDLE = HOUR;
      const GRACE = 5000;
      /** A user, a live session and its refresh token; `now` is inside the session's lifetimes. */
      const setUp = async (store: Store, session: Partial<SessionRecord> = {}, user: Partial<UserRecord> = {}) => {
        const owner = makeUser(user);
        await store.insertUser(owner);
        const live = makeSession(owner.id, session);
        await store.insertSession(live);
        const token = makeToken(live.id);
        await store.insertRefreshToken(token);
        return { user: owner, session: live, token };
      };
      const rotate = (store: Store, hash: string, now: number, successorHash = `next-${hash}`) =>
        store.rotateRefreshToken!({ hash, successorHash, now, idleMs: IDLE, graceMs: GRACE });

      it("a live token: stores the successor, marks the token, moves the idle end (capped)", async () => {
        const store = await fresh();
        const { user, session, token } = await setUp(store, { absoluteExpiresAt: T0 + 90 * MINUTE });
        const now = T0 + 40 * MINUTE;
        const result = await rotate(store, token.hash, now);
        assert.equal(result.outcome, "rotated");
        assert.ok(result.outcome === "rotated");
        const touched = { ...session, lastUsedAt: now, idleExpiresAt: T0 + 90 * MINUTE };
        assert.deepEqual(result.session, touched);
        assert.deepEqual(result.user, user);
        assert.deepEqual(await store.findSession(session.id), touched);
        assert.deepEqual(await store.findRefreshToken(token.hash), { ...token, rotatedAt: now });
        assert.deepEqual(await store.findRefreshToken(`next-${token.hash}`), {
          hash: `next-${token.hash}`,
          sessionId: session.id,
          createdAt: now,
          rotatedAt: null,
        });
      });

      it("the rotated session keeps how the user proved it (amr), on the token and in its grace", async () => {
        const store = await fresh();
        const { token } = await setUp(store, { amr: ["pwd", "otp", "mfa"] });
        const rotated = await rotate(store, token.hash, T0 + 1000);
        assert.ok(rotated.outcome === "rotated");
        assert.deepEqual(rotated.session.amr, ["pwd", "otp", "mfa"]);
        const again = await rotate(store, token.hash, T0 + 1001);
        assert.ok(again.outcome === "grace");
        assert.deepEqual(again.session.amr, ["pwd", "otp", "mfa"]);
      });

      it("inside the grace window: 'grace' and nothing written; after it: reuse ends the session", async () => {
        const store = await fresh();
        const { user, session, token } = await setUp(store);
        await rotate(store, token.hash, T0 + 1000);
        const before = await store.findSession(session.id);
        const again = await rotate(store, token.hash, T0 + 1000 + GRACE, "another-successor");
        assert.equal(again.outcome, "grace");
        assert.ok(again.outcome === "grace");
        assert.deepEqual(again.session, before);
        assert.equal(await store.findRefreshToken("another-successor"), null, "no second branch");
        assert.deepEqual(await store.findSession(session.id), before);

        const reused = await rotate(store, token.hash, T0 + 1001 + GRACE);
        assert.deepEqual(reused, { outcome: "reused", sessionId: session.id, userId: user.id });
        const ended = await store.findSession(session.id);
        assert.equal(ended?.endedAt, T0 + 1001 + GRACE);
        assert.equal(ended?.endReason, "refresh_token_reuse");
        assert.deepEqual(await rotate(store, `next-${token.hash}`, T0 + 1002 + GRACE), { outcome: "ended" });
      });

      it("onReused runs in the transaction that ends a reused session: if it throws, nothing is written", async () => {
        const store = await fresh();
        const { user, session, token } = await setUp(store);
        await rotate(store, token.hash, T0 + 1000);
        const reuse = (now: number, onReused: NonNullable<RefreshRotationRequest["onReused"]>) =>
          store.rotateRefreshToken!({
            hash: token.hash,
            successorHash: "s",
            now,
            idleMs: IDLE,
            graceMs: GRACE,
            onReused,
          });
        const refused = new Error("the audit trail refused the event");
        await assert.rejects(
          reuse(T0 + 2000 + GRACE, async (tx) => {
            await tx.insertAuditEvent(makeAuditEvent(1, { type: "refresh_reused", sessionId: session.id }));
            throw refused;
          }),
          (error: unknown) => error === refused,
        );
        assert.equal((await store.findSession(session.id))?.endedAt, null, "the session is not ended");
        assert.deepEqual(await store.listAuditEvents({ limit: 10 }), [], "nor its event written");

        const calls: { sessionId: string; userId: string }[] = [];
        const reused = await reuse(T0 + 3000 + GRACE, async (tx, ended) => {
          calls.push(ended);
          assert.equal((await tx.findSession(ended.sessionId))?.endReason, "refresh_token_reuse", "ended before");
          await tx.insertAuditEvent(makeAuditEvent(2, { type: "refresh_reused", sessionId: ended.sessionId }));
        });
        assert.deepEqual(reused, { outcome: "reused", sessionId: session.id, userId: user.id });
        assert.deepEqual(calls, [{ sessionId: session.id, userId: user.id }]);
        assert.equal((await store.findSession(session.id))?.endedAt, T0 + 3000 + GRACE);
        assert.deepEqual(
          (await store.listAuditEvents({ limit: 10 })).map((event) => event.type),
          ["refresh_reused"],
        );
      });

      it("of 10 concurrent reuses of one token exactly one reports 'reused' and runs onReused", async () => {
        const store = await fresh();
        const { session, token } = await setUp(store);
        await rotate(store, token.hash, T0 + 1000);
        const calls: string[] = [];
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            store.rotateRefreshToken!({
              hash: token.hash,
              successorHash: `s${i}`,
              now: T0 + 2000 + GRACE + i,
              idleMs: IDLE,
              graceMs: GRACE,
              onReused: async (_tx, ended) => void calls.push(ended.sessionId),
            }),
          ),
        );
        const outcomes = results.map((result) => result.outcome);
        assert.equal(outcomes.filter((outcome) => outcome === "reused").length, 1, outcomes.join(" "));
        assert.equal(outcomes.filter((outcome) => outcome === "ended").length, 9, outcomes.join(" "));
        assert.deepEqual(calls, [session.id]);
        assert.equal((await store.findSession(session.id))?.endReason, "refresh_token_reuse");
      });

      it("an unknown token, an ended session, an expired session, a disabled or missing user", async () => {
        const store = await fresh();
        assert.deepEqual(await rotate(store, "no-such-hash", T0), { outcome: "unknown" });

        const ended = await setUp(store, { endedAt: T0, endReason: "logout" });
        assert.deepEqual(await rotate(store, ended.token.hash, T0 + 1), { outcome: "ended" });
        assert.equal(await store.findRefreshToken(`next-${ended.token.hash}`), null);
        assert.deepEqual(await store.findSession(ended.session.id), ended.session, "its first end is kept");

        const idle = await setUp(store, { idleExpiresAt: T0 + MINUTE });
        assert.deepEqual(await rotate(store, idle.token.hash, T0 + MINUTE), { outcome: "expired" });
        assert.equal((await store.findSession(idle.session.id))?.endReason, "expired");
        const absolute = await setUp(store, { absoluteExpiresAt: T0 + MINUTE });
        assert.deepEqual(await rotate(store, absolute.token.hash, T0 + MINUTE), { outcome: "expired" });

        const disabled = await setUp(store, {}, { disabledAt: T0 });
        assert.deepEqual(await rotate(store, disabled.token.hash, T0 + 1), { outcome: "user_disabled" });
        assert.equal((await store.findSession(disabled.session.id))?.endReason, "user_disabled");
        const orphan = makeSession(randomUUID());
        await store.insertSession(orphan);
        const orphanToken = makeToken(orphan.id);
        await store.insertRefreshToken(orphanToken);
        assert.deepEqual(await rotate(store, orphanToken.hash, T0 + 1), { outcome: "user_disabled" });
        for (const { token } of [idle, absolute, disabled]) {
          assert.equal(await store.findRefreshToken(`next-${token.hash}`), null, "no successor");
          assert.equal((await store.findRefreshToken(token.hash))?.rotatedAt, null, "not consumed");
        }
      });

      it("of 10 concurrent rotations of one token exactly one writes a successor; the others get 'grace'", async () => {
        const store = await fresh();
        const { token } = await setUp(store);
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, i) => rotate(store, token.hash, T0 + 100 + i)),
        );
        const outcomes = results.map((result) => result.outcome);
        assert.equal(outcomes.filter((outcome) => outcome === "rotated").length, 1, outcomes.join(" "));
        assert.equal(outcomes.filter((outcome) => outcome === "grace").length, 9, outcomes.join(" "));
        assert.notEqual((await store.findRefreshToken(token.hash))?.rotatedAt, null);
      });

      it("a rotation racing a logout never leaves a successor stored after it reported the session ended", async () => {
        const store = await fresh();
        for (let round = 0; round < 5; round++) {
          const { session, token } = await setUp(store);
          const [rotation] = await Promise.all([
            rotate(store, token.hash, T0 + 10),
            store.endSession(session.id, T0 + 10, "logout"),
          ]);
          const successor = await store.findRefreshToken(`next-${token.hash}`);
          if (rotation.outcome === "rotated") assert.ok(successor, "a reported rotation is whole");
          else {
            assert.equal(rotation.outcome, "ended");
            assert.equal(successor, null, "an ended session gets no successor");
            assert.equal((await store.findRefreshToken(token.hash))?.rotatedAt, null);
          }
          assert.notEqual((await store.findSession(session.id))?.endedAt, null);
        }
      });
    });

    describe("change feed (subscribeChanges, listEndedSessions)", () => {
      /** Records what a listener hears; `connected` is counted. */
      const listen = (store: Store) => {
        const heard: StoreChange[] = [];
        let connected = 0;
        const subscription = store.subscribeChanges!({
          change: (change) => heard.push(change),
          connected: () => connected++,
          synced: () => undefined,
          lost: () => undefined,
        });
        return { heard, connections: () => connected, subscription };
      };
      // Delivery is at least once (PostgreSQL echoes this store's own notifications back): listeners are idempotent.
      const endings = (heard: StoreChange[]) => [
        ...new Set(heard.filter((change) => change.kind === "session_ended").map((change) => change.sessionId)),
      ];
      const until = async (condition: () => boolean) => {
        for (let waited = 0; !condition() && waited < 5000; waited += 10) await delay(10);
        assert.ok(condition(), "timed out waiting for the change feed");
      };

      it("connects, and hears every way a session ends, as soon as the call returns", async () => {
        const store = await fresh();
        const { heard, connections, subscription } = listen(store);
        await until(() => connections() > 0);
        const [a, b, c, d] = [makeSession("u1"), makeSession("u2"), makeSession("u2"), makeSession("u2")];
        for (const s of [a, b, c, d]) await store.insertSession(s);
        await store.endSession(a.id, T0 + 1, "logout");
        assert.deepEqual(endings(heard), [a.id]);
        await store.endSession(a.id, T0 + 2, "logout");
        await store.endUserSessions("u2", T0 + 3, "password_changed", d.id);
        assert.deepEqual(endings(heard).sort(), [a.id, b.id, c.id].sort(), "the kept one not at all");
        assert.deepEqual(
          heard.find((change) => change.kind === "session_ended" && change.sessionId === b.id),
          { kind: "session_ended", sessionId: b.id, endedAt: T0 + 3 },
        );
        await subscription.close();
        await store.endSession(d.id, T0 + 4, "logout");
        await delay(50);
        assert.equal(endings(heard).length, 3, "nothing after close");
      });

      it("inside a transaction: heard only once it commits; nothing from a rolled-back one", async () => {
        const store = await fresh();
        const { heard, subscription } = listen(store);
        const [a, b] = [makeSession("u1"), makeSession("u1")];
        for (const s of [a, b]) await store.insertSession(s);
        await store.transaction(async (tx) => {
          await tx.endSession(a.id, T0 + 1, "logout");
          assert.deepEqual(endings(heard), [], "not before commit");
        });
        assert.deepEqual(endings(heard), [a.id]);
        await assert.rejects(
          store.transaction(async (tx) => {
            await tx.endSession(b.id, T0 + 1, "logout");
            throw new Error("rollback");
          }),
          /rollback/,
        );
        assert.deepEqual(endings(heard), [a.id]);
        await subscription.close();
      });

      it("hears sessions a refresh rotation ends, and signing key changes", async () => {
        const store = await fresh();
        const { heard, subscription } = listen(store);
        const user = makeUser();
        await store.insertUser(user);
        const session = makeSession(user.id);
        await store.insertSession(session);
        const token = makeToken(session.id);
        await store.insertRefreshToken(token);
        const request = { hash: token.hash, successorHash: "s1", now: T0 + 1, idleMs: HOUR, graceMs: 0 };
        await store.rotateRefreshToken!(request);
        assert.deepEqual(endings(heard), []);
        assert.deepEqual(await store.rotateRefreshToken!({ ...request, now: T0 + 2 }), {
          outcome: "reused",
          sessionId: session.id,
          userId: user.id,
        });
        assert.deepEqual(endings(heard), [session.id]);

        const key = makeKey();
        await store.insertSigningKey(key);
        await store.updateSigningKey(key.kid, { expiresAt: T0 });
        assert.ok(heard.filter((change) => change.kind === "signing_keys_changed").length >= 2);
        await subscription.close();
      });

      it("closing the store tells its listeners the feed is lost, so none goes on vouching for it", async () => {
        const store = await open();
        await store.migrate();
        const lost: unknown[] = [];
        store.subscribeChanges!({
          change: () => undefined,
          connected: () => undefined,
          synced: () => undefined,
          lost: (error) => lost.push(error),
        });
        await store.close();
        assert.equal(lost.length, 1);
      });

      it("listEndedSessions pages through ended sessions in (endedAt, id) order from a cursor", async () => {
        const store = await fresh();
        const ended = [3, 1, 2, 2, 5].map((minutes) =>
          makeSession("u1", { endedAt: T0 + minutes * MINUTE, endReason: "logout" }),
        );
        for (const s of [...ended, makeSession("u1")]) await store.insertSession(s);
        const expected = ended
          .map((s) => ({ id: s.id, endedAt: s.endedAt! }))
          .sort((x, y) => x.endedAt - y.endedAt || (x.id < y.id ? -1 : 1));
        assert.deepEqual(await store.listEndedSessions!({ endedAt: T0, id: "" }, 100), expected);
        const first = await store.listEndedSessions!({ endedAt: T0 + 2 * MINUTE, id: "" }, 2);
        assert.deepEqual(first, expected.slice(1, 3));
        assert.deepEqual(await store.listEndedSessions!(first[1]!, 2), expected.slice(3, 5));
        assert.deepEqual(await store.listEndedSessions!(expected[4]!, 2), []);
      });
    });

    describe("signing keys", () => {
      it("inserts, lists oldest first, and updates only the fields given", async () => {
        const store = await fresh();
        const older = makeKey({ createdAt: T0, activatesAt: T0 });
        const newer = makeKey({
          alg: "ES256",
          createdAt: T0 + HOUR,
          activatesAt: T0 + 2 * HOUR,
          expiresAt: T0 + 9 * HOUR,
        });
        await store.insertSigningKey(newer);
        await store.insertSigningKey(older);
        assert.deepEqual(await store.listSigningKeys(), [older, newer]);

        await store.updateSigningKey(older.kid, { retiredAt: T0 + 3 * HOUR });
        await store.updateSigningKey(newer.kid, { retiredAt: T0 + 4 * HOUR });
        await store.updateSigningKey(newer.kid, { expiresAt: null });
        assert.deepEqual(await store.listSigningKeys(), [
          { ...older, retiredAt: T0 + 3 * HOUR },
          { ...newer, retiredAt: T0 + 4 * HOUR, expiresAt: null },
        ]);

        await store.updateSigningKey(older.kid, { retiredAt: null, expiresAt: T0 + 5 * HOUR });
        await store.updateSigningKey(older.kid, {});
        const [updated] = await store.listSigningKeys();
        assert.deepEqual(updated, { ...older, retiredAt: null, expiresAt: T0 + 5 * HOUR });
      });
    });

    describe("settings", () => {
      it("putSettingIfAbsent keeps the first value written", async () => {
        const store = await fresh();
        assert.equal(await store.getSetting("rotation_key"), null);
        assert.equal(await store.putSettingIfAbsent("rotation_key", "first"), "first");
        assert.equal(await store.putSettingIfAbsent("rotation_key", "second"), "first");
        assert.equal(await store.getSetting("rotation_key"), "first");
        assert.equal(await store.putSettingIfAbsent("other", "x"), "x");
      });

      it("concurrent first writers all get the same stored value", async () => {
        const store = await fresh();
        const values = await Promise.all(
          Array.from({ length: 20 }, (_, i) => store.putSettingIfAbsent("shared", `candidate-${i}`)),
        );
        const stored = await store.getSetting("shared");
        assert.ok(stored?.startsWith("candidate-"));
        assert.deepEqual(new Set(values), new Set([stored]));
      });
    });

    describe("stored secrets", () => {
      it("lists every private key and the secret settings, with their contexts, and nothing else", async () => {
        const store = await fresh();
        const [a, b] = [makeKey({ kid: "kid-a" }), makeKey({ kid: "kid-b" })];
        await store.insertSigningKey(b);
        await store.insertSigningKey(a);
        await store.putSettingIfAbsent("refresh_rotation_key", "rotation");
        await store.putSettingIfAbsent("signing_key_election:EdDSA:none", "kid-a");
        assert.deepEqual(await store.listStoredSecrets(), [
          { column: "signing_keys.private_jwk", id: "kid-a", context: "signing_key:kid-a", value: a.privateJwk },
          { column: "signing_keys.private_jwk", id: "kid-b", context: "signing_key:kid-b", value: b.privateJwk },
          {
            column: "settings.value",
            id: "refresh_rotation_key",
            context: "setting:refresh_rotation_key",
            value: "rotation",
          },
        ]);
      });

      it("lists sealed outbox payloads (a mail's link) but never a plain JSON one (a webhook)", async () => {
        const store = await fresh();
        await store.insertOutboxMessage(makeOutboxMessage({ id: "o-plain", payload: '{"type":"logout"}' }));
        await store.insertOutboxMessage(makeOutboxMessage({ id: "o-sealed", payload: "ghenc1.k.iv.body" }));
        assert.deepEqual(await store.listStoredSecrets(), [
          { column: "outbox.payload", id: "o-sealed", context: "outbox:o-sealed", value: "ghenc1.k.iv.body" },
        ]);
        assert.equal(await store.rewriteStoredSecrets(() => "ghenc1.k2.iv.body"), 1);
        assert.equal((await store.findOutboxMessage("o-sealed"))?.payload, "ghenc1.k2.iv.body");
        assert.equal((await store.findOutboxMessage("o-plain"))?.payload, '{"type":"logout"}');
      });

      it("rewriteStoredSecrets replaces what the function returns, leaves the rest, counts the changes", async () => {
        const store = await fresh();
        const key = makeKey({ kid: "kid-a" });
        await store.insertSigningKey(key);
        await store.putSettingIfAbsent("refresh_rotation_key", "rotation");
        const changed = await store.rewriteStoredSecrets((secret) =>
          secret.id === "kid-a" ? `sealed(${secret.context})` : undefined,
        );
        assert.equal(changed, 1);
        assert.deepEqual(
          (await store.listStoredSecrets()).map((secret) => secret.value),
          ["sealed(signing_key:kid-a)", "rotation"],
        );
        const [stored] = await store.listSigningKeys();
        assert.deepEqual(stored, { ...key, privateJwk: "sealed(signing_key:kid-a)" });
        assert.equal(await store.rewriteStoredSecrets((secret) => secret.value), 0);
      });

      it("rewriteStoredSecrets changes nothing when the function throws part-way", async () => {
        const store = await fresh();
        await store.insertSigningKey(makeKey({ kid: "kid-a" }));
        await store.putSettingIfAbsent("refresh_rotation_key", "rotation");
        const before = await store.listStoredSecrets();
        await assert.rejects(
          store.rewriteStoredSecrets((secret) => {
            if (secret.column === "settings.value") throw new Error("cannot rewrite this one");
            return "changed";
          }),
          /cannot rewrite this one/,
        );
        assert.deepEqual(await store.listStoredSecrets(), before);
      });

      it("concurrent rewrites of the same values apply each change once", async () => {
        const store = await fresh();
        for (const kid of ["kid-a", "kid-b", "kid-c"]) await store.insertSigningKey(makeKey({ kid }));
        await store.putSettingIfAbsent("refresh_rotation_key", "rotation");
        const counts = await Promise.all(
          Array.from({ length: 4 }, (_, i) =>
            store.rewriteStoredSecrets((secret) =>
              secret.value.startsWith("sealed:") ? undefined : `sealed:${i}:${secret.value}`,
            ),
          ),
        );
        assert.equal(
          counts.reduce((sum, count) => sum + count, 0),
          4,
        );
        for (const secret of await store.listStoredSecrets()) assert.match(secret.value, /^sealed:\d:/);
      });
    });

    describe("transactions", () => {
      it("commits every write of the work and returns its result", async () => {
        const store = await fresh();
        const user = makeUser();
        const session = makeSession(user.id);
        const token = makeToken(session.id);
        const result = await store.transaction(async (tx) => {
          await tx.insertUser(user);
          await tx.insertSession(session);
          assert.equal(await tx.insertRefreshToken(token), true);
          assert.deepEqual(await tx.lockRefreshToken(token.hash), token, "a transaction reads its own writes");
          assert.equal(await tx.lockRefreshToken("no-such-hash"), null);
          return "done";
        });
        assert.equal(result, "done");
        assert.deepEqual(await store.findUserById(user.id), user);
        assert.deepEqual(await store.findSession(session.id), session);
        assert.deepEqual(await store.findRefreshToken(token.hash), token);
      });

      it("rolls back every write when the work throws, and rethrows the same error", async () => {
        const store = await fresh();
        const existing = makeSession("u1");
        await store.insertSession(existing);
        const user = makeUser();
        const session = makeSession(user.id);
        const token = makeToken(session.id);
        const failure = new Error("work failed");
        await assert.rejects(
          store.transaction(async (tx) => {
            await tx.insertUser(user);
            await tx.insertSession(session);
            await tx.insertRefreshToken(token);
            await tx.endSession(existing.id, T0 + 1, "logout");
            await tx.putSettingIfAbsent("in-tx", "value");
            throw failure;
          }),
          (error) => error === failure,
        );
        assert.equal(await store.findUserById(user.id), null);
        assert.equal(await store.findUserByUsername(user.username), null);
        assert.equal(await store.findSession(session.id), null);
        assert.equal(await store.findRefreshToken(token.hash), null);
        assert.equal((await store.findSession(existing.id))?.endedAt, null);
        assert.equal(await store.getSetting("in-tx"), null);
        // The store is usable after a rollback.
        await store.insertUser(user);
        assert.deepEqual(await store.findUserById(user.id), user);
      });

      it("a username conflict inside a transaction surfaces as username_taken and rolls back", async () => {
        const store = await fresh();
        await store.insertUser(makeUser({ username: "taken" }));
        const session = makeSession("u1");
        await assert.rejects(
          store.transaction(async (tx) => {
            await tx.insertSession(session);
            await tx.insertUser(makeUser({ username: "TAKEN" }));
          }),
          isAuthErrorWithCode("username_taken"),
        );
        assert.equal(await store.findSession(session.id), null);
      });

      it("work outside a transaction is neither part of it nor rolled back with it", async () => {
        const store = await fresh();
        const inside = makeUser();
        const outside = makeUser();
        let enter!: () => void;
        const entered = new Promise<void>((resolve) => {
          enter = resolve;
        });
        let release!: () => void;
        const gate = new Promise<void>((resolve) => {
          release = resolve;
        });
        const failed = store.transaction(async (tx) => {
          await tx.insertUser(inside);
          enter();
          await gate;
          throw new Error("rollback");
        });
        await entered;
        const outsideWrite = store.insertUser(outside);
        await yieldToEventLoop();
        release();
        await assert.rejects(failed, /rollback/);
        await outsideWrite;
        assert.equal(await store.findUserById(inside.id), null);
        assert.deepEqual(await store.findUserById(outside.id), outside);
      });

      it("50 concurrent read-modify-write transactions lose no update", async () => {
        const store = await fresh();
        const session = makeSession("u1", { lastUsedAt: 0 });
        const token = makeToken(session.id);
        await store.insertSession(session);
        await store.insertRefreshToken(token);
        const rounds = 50;
        await Promise.all(
          Array.from({ length: rounds }, () =>
            store.transaction(async (tx) => {
              // The rotation pattern: lock the token row, read, yield, write back.
              assert.ok(await tx.lockRefreshToken(token.hash));
              const current = await tx.findSession(session.id);
              await yieldToEventLoop();
              await tx.touchSession(session.id, current!.lastUsedAt + 1, current!.idleExpiresAt);
            }),
          ),
        );
        assert.equal((await store.findSession(session.id))?.lastUsedAt, rounds);
      });

      it("only one of many concurrent rotations of the same token wins", async () => {
        const store = await fresh();
        const session = makeSession("u1");
        const token = makeToken(session.id);
        await store.insertSession(session);
        await store.insertRefreshToken(token);
        const outcomes = await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            store.transaction(async (tx) => {
              const row = await tx.lockRefreshToken(token.hash);
              if (row === null || row.rotatedAt !== null) return false;
              await yieldToEventLoop();
              assert.equal(await tx.insertRefreshToken(makeToken(session.id, { createdAt: T0 + i })), true);
              return tx.markRefreshTokenRotated(token.hash, T0 + i);
            }),
          ),
        );
        assert.equal(outcomes.filter(Boolean).length, 1);
      });
    });

    describe("outbox", () => {
      const claim = (store: Store, now: number, limit = 10, kind = "webhook") =>
        store.claimOutboxMessages({ kind, now, leaseUntil: now + MINUTE, limit });

      it("round-trips every field", async () => {
        const store = await fresh();
        const message = makeOutboxMessage({ lastError: "HTTP 500", lockedUntil: T0 + 1, attempts: 2 });
        await store.insertOutboxMessage(message);
        assert.deepEqual(await store.findOutboxMessage(message.id), message);
        assert.equal(await store.findOutboxMessage("nope"), null);
      });

      it("claims due messages of one kind, oldest due first, leasing each and counting the attempt", async () => {
        const store = await fresh();
        const later = makeOutboxMessage({ nextAttemptAt: T0 + 2 });
        const first = makeOutboxMessage({ nextAttemptAt: T0 + 1 });
        const notYet = makeOutboxMessage({ nextAttemptAt: T0 + HOUR });
        const mail = makeOutboxMessage({ kind: "mail" });
        for (const message of [later, first, notYet, mail]) await store.insertOutboxMessage(message);
        const claimed = await claim(store, T0 + 10);
        assert.deepEqual(
          claimed.map((m) => m.id),
          [first.id, later.id],
        );
        assert.deepEqual(claimed[0], { ...first, attempts: 1, lockedUntil: T0 + 10 + MINUTE });
        assert.deepEqual(await store.findOutboxMessage(first.id), claimed[0]);
        assert.deepEqual(await claim(store, T0 + 20), [], "leased messages are not claimed again");
        assert.deepEqual(
          (await claim(store, T0 + 20, 10, "mail")).map((m) => m.id),
          [mail.id],
        );
      });

      it("a message whose lease ran out (its worker died) is claimed again, one attempt more", async () => {
        const store = await fresh();
        const message = makeOutboxMessage();
        await store.insertOutboxMessage(message);
        assert.equal((await claim(store, T0))[0]?.attempts, 1);
        const again = await claim(store, T0 + MINUTE);
        assert.equal(again[0]?.id, message.id);
        assert.equal(again[0]?.attempts, 2);
      });

      it("respects the limit", async () => {
        const store = await fresh();
        for (let i = 0; i < 5; i++) await store.insertOutboxMessage(makeOutboxMessage({ nextAttemptAt: T0 + i }));
        assert.equal((await claim(store, T0 + 10, 3)).length, 3);
        assert.equal((await claim(store, T0 + 10, 3)).length, 2);
      });

      it("delivered and dead messages leave the backlog and are never claimed; a failure reschedules", async () => {
        const store = await fresh();
        const [a, b, c] = [makeOutboxMessage(), makeOutboxMessage(), makeOutboxMessage()];
        for (const message of [a, b, c]) await store.insertOutboxMessage(message);
        assert.equal(await store.countOutboxBacklog(), 3);
        await claim(store, T0);
        assert.equal(await store.markOutboxDelivered(a.id, T0 + 5), true);
        assert.equal(await store.markOutboxDelivered(a.id, T0 + 6), false, "delivered once");
        const failure = { attempts: 1, lastError: "HTTP 503", nextAttemptAt: T0 + 100, deadAt: null };
        assert.equal(await store.markOutboxFailed(b.id, { ...failure, attempts: 7 }), false, "another claim's count");
        assert.equal(await store.markOutboxFailed(b.id, failure), true);
        assert.equal(await store.markOutboxFailed(c.id, { ...failure, deadAt: T0 + 5 }), true);
        assert.equal(await store.countOutboxBacklog(), 1);
        assert.deepEqual(await store.findOutboxMessage(b.id), {
          ...b,
          attempts: 1,
          lockedUntil: null,
          lastError: "HTTP 503",
          nextAttemptAt: T0 + 100,
        });
        assert.deepEqual(await claim(store, T0 + 99), [], "not before its retry time");
        const retried = await store.claimOutboxMessages({
          kind: "webhook",
          now: T0 + 100,
          leaseUntil: T0 + 2 * HOUR,
          limit: 9,
        });
        assert.deepEqual(
          retried.map((m) => m.id),
          [b.id],
        );
        assert.equal(await store.markOutboxFailed(a.id, failure), false, "a delivered message stays delivered");
        assert.deepEqual(await claim(store, T0 + HOUR), [], "b is leased again; a is delivered and c dead for good");
      });

      it("pruneOutbox deletes delivered and dead messages older than their limits, never pending ones", async () => {
        const store = await fresh();
        const oldDelivered = makeOutboxMessage({ deliveredAt: T0 });
        const newDelivered = makeOutboxMessage({ deliveredAt: T0 + HOUR });
        const oldDead = makeOutboxMessage({ deadAt: T0 });
        const pending = makeOutboxMessage({ createdAt: T0 - HOUR, nextAttemptAt: T0 - HOUR });
        for (const m of [oldDelivered, newDelivered, oldDead, pending]) await store.insertOutboxMessage(m);
        assert.equal(await store.pruneOutbox(T0 + 1, T0 - 1), 1);
        assert.equal(await store.pruneOutbox(T0 + 1, T0 + 1), 1);
        assert.notEqual(await store.findOutboxMessage(newDelivered.id), null);
        assert.notEqual(await store.findOutboxMessage(pending.id), null);
      });

      it("concurrent claimers share the due messages: each is claimed exactly once", async () => {
        const store = await fresh();
        const ids = new Set<string>();
        for (let i = 0; i < 60; i++) {
          const message = makeOutboxMessage({ nextAttemptAt: T0 + i });
          ids.add(message.id);
          await store.insertOutboxMessage(message);
        }
        const batches = await Promise.all(Array.from({ length: 8 }, () => claim(store, T0 + 100, 5)));
        const more = await Promise.all(Array.from({ length: 8 }, () => claim(store, T0 + 100, 5)));
        const claimed = [...batches, ...more].flat().map((m) => m.id);
        assert.equal(claimed.length, 60);
        assert.deepEqual(new Set(claimed), ids);
      });

      it("an enqueue inside a transaction that rolls back leaves no message", async () => {
        const store = await fresh();
        const message = makeOutboxMessage();
        await assert.rejects(
          store.transaction(async (tx) => {
            await tx.insertOutboxMessage(message);
            throw new Error("rollback");
          }),
          /rollback/,
        );
        assert.equal(await store.findOutboxMessage(message.id), null);
        assert.equal(await store.countOutboxBacklog(), 0);
      });
    });

    describe("audit events", () => {
      it("round-trips every field, data included", async () => {
        const store = await fresh();
        const event = makeAuditEvent(1, {
          sessionId: "s1",
          data: { reason: "wrong_password", count: 2, current: true, none: null },
        });
        await store.insertAuditEvent(event);
        const bare = makeAuditEvent(2, { userId: null, ip: null, userAgent: null });
        await store.insertAuditEvent(bare);
        assert.deepEqual(await store.listAuditEvents({ limit: 10 }), [bare, event]);
      });

      it("pages one user's events newest first with the id of the last one seen as the cursor", async () => {
        const store = await fresh();
        const mine = Array.from({ length: 7 }, (_, n) => makeAuditEvent(n * 2, { userId: "me" }));
        const theirs = Array.from({ length: 7 }, (_, n) => makeAuditEvent(n * 2 + 1, { userId: "them" }));
        for (const event of [...theirs, ...mine].reverse()) await store.insertAuditEvent(event);
        const newestFirst = [...mine].reverse().map((e) => e.id);
        const first = await store.listAuditEvents({ userId: "me", limit: 3 });
        assert.deepEqual(
          first.map((e) => e.id),
          newestFirst.slice(0, 3),
        );
        const second = await store.listAuditEvents({ userId: "me", before: first.at(-1)!.id, limit: 3 });
        assert.deepEqual(
          second.map((e) => e.id),
          newestFirst.slice(3, 6),
        );
        const last = await store.listAuditEvents({ userId: "me", before: second.at(-1)!.id, limit: 3 });
        assert.deepEqual(
          last.map((e) => e.id),
          newestFirst.slice(6),
        );
        assert.deepEqual(await store.listAuditEvents({ userId: "me", before: last[0]!.id, limit: 3 }), []);
      });

      it("filters by user, type and time, each optional, together", async () => {
        const store = await fresh();
        const events = [
          makeAuditEvent(1, { userId: "a", type: "login_failed" }),
          makeAuditEvent(2, { userId: "b", type: "login_failed" }),
          makeAuditEvent(3, { userId: "a", type: "logout" }),
          makeAuditEvent(4, { userId: null, type: "login_failed" }),
          makeAuditEvent(5, { userId: "a", type: "login_failed" }),
        ];
        for (const event of events) await store.insertAuditEvent(event);
        const ids = async (query: Parameters<Store["listAuditEvents"]>[0]) =>
          (await store.listAuditEvents(query)).map((e) => events.indexOf(events.find((x) => x.id === e.id)!) + 1);
        assert.deepEqual(await ids({ limit: 10 }), [5, 4, 3, 2, 1]);
        assert.deepEqual(await ids({ type: "login_failed", limit: 10 }), [5, 4, 2, 1]);
        assert.deepEqual(await ids({ userId: "a", type: "login_failed", limit: 10 }), [5, 1]);
        assert.deepEqual(await ids({ userId: "a", since: T0 + 3, limit: 10 }), [5, 3]);
        assert.deepEqual(await ids({ since: T0 + 2, before: events[4]!.id, limit: 2 }), [4, 3]);
      });

      it("pruneAuditEvents deletes events older than the limit", async () => {
        const store = await fresh();
        for (let n = 0; n < 5; n++) await store.insertAuditEvent(makeAuditEvent(n));
        assert.equal(await store.pruneAuditEvents(T0 + 3), 3);
        assert.deepEqual(
          (await store.listAuditEvents({ limit: 10 })).map((e) => e.at),
          [T0 + 4, T0 + 3],
        );
      });

      it("an event recorded in a transaction that rolls back is gone with it", async () => {
        const store = await fresh();
        await assert.rejects(
          store.transaction(async (tx) => {
            await tx.insertAuditEvent(makeAuditEvent(1));
            throw new Error("rollback");
          }),
          /rollback/,
        );
        assert.deepEqual(await store.listAuditEvents({ limit: 10 }), []);
      });
    });

    describe("afterCommit", () => {
      it("runs callbacks in order once the transaction committed, never after a rollback", async () => {
        const store = await fresh();
        const calls: string[] = [];
        const user = makeUser();
        await store.transaction(async (tx) => {
          tx.afterCommit(() => calls.push("first"));
          await tx.insertUser(user);
          tx.afterCommit(() => calls.push("second"));
          assert.deepEqual(calls, [], "not before commit");
        });
        assert.deepEqual(calls, ["first", "second"]);
        await assert.rejects(
          store.transaction(async (tx) => {
            tx.afterCommit(() => calls.push("rolled back"));
            throw new Error("rollback");
          }),
          /rollback/,
        );
        assert.deepEqual(calls, ["first", "second"]);
      });

      it("a callback that throws neither fails the committed transaction nor stops the others", async () => {
        const store = await fresh();
        const calls: string[] = [];
        const user = makeUser();
        const result = await store.transaction(async (tx) => {
          await tx.insertUser(user);
          tx.afterCommit(() => {
            throw new Error("listener failed");
          });
          tx.afterCommit(() => calls.push("still called"));
          return "committed";
        });
        assert.equal(result, "committed");
        assert.deepEqual(calls, ["still called"]);
        assert.deepEqual(await store.findUserById(user.id), user);
      });
    });

    describe("transaction misuse", () => {
      it("a tx used after its transaction ended is refused with internal_error", async () => {
        const store = await fresh();
        const leaked = await store.transaction(async (tx) => tx);
        await assert.rejects(leaked.findUserById("x"), isAuthErrorWithCode("internal_error"));
        await assert.rejects(leaked.insertUser(makeUser()), isAuthErrorWithCode("internal_error"));
        assert.deepEqual(await store.listUsers(), [], "nothing was written");
      });
    });

    describe("after close()", () => {
      it("every operation rejects with AuthError unavailable, and close() is idempotent", async () => {
        const store = await fresh();
        const user = makeUser();
        await store.insertUser(user);
        await store.close();
        await store.close();
        await assert.rejects(store.ping(), isAuthErrorWithCode("unavailable"));
        await assert.rejects(store.findUserById(user.id), isAuthErrorWithCode("unavailable"));
        await assert.rejects(store.insertUser(makeUser()), isAuthErrorWithCode("unavailable"));
        await assert.rejects(store.getSetting("x"), isAuthErrorWithCode("unavailable"));
        await assert.rejects(
          store.transaction(async (tx) => tx.findUserById(user.id)),
          isAuthErrorWithCode("unavailable"),
        );
        await assert.rejects(store.pruneSessions(T0), isAuthErrorWithCode("unavailable"));
        await assert.rejects(store.ping(), (error) => {
          assert.equal((error as AuthError).message, "The database is unavailable. Try again shortly.");
          return true;
        });
      });
    });
  });
}
