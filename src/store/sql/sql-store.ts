import type { CounterStore } from "../../core/store/counters.ts";
import type { MfaTokenRecord, RecoveryCodeRecord, TotpFactorRecord } from "../../core/store/mfa.ts";
import type { PasskeyRecord, WebAuthnChallengeRecord } from "../../core/store/passkeys.ts";
import type { RefreshTokenRecord } from "../../core/store/refresh-tokens.ts";
import type { SessionRecord } from "../../core/store/sessions.ts";
import type { SigningKeyChanges, SigningKeyRecord } from "../../core/store/signing-keys.ts";
import type { Store, StoreOps, TransactionOps } from "../../core/store/store.ts";
import type { UserRecord } from "../../core/store/users.ts";
import type { DialectName } from "./dialect.ts";
import type { SqlDriver, SqlRunner } from "./driver.ts";
import * as mfa from "./mfa.ts";
import { isSchemaCurrent, migrate } from "./migrate.ts";
import * as passkeys from "./passkeys.ts";
import * as refreshTokens from "./refresh-tokens.ts";
import * as sessions from "./sessions.ts";
import * as settings from "./settings.ts";
import * as signingKeys from "./signing-keys.ts";
import { statement } from "./statement.ts";
import * as users from "./users.ts";

const PING = statement<[], unknown>("ping", "SELECT 1");

/**
 * Every port operation bound to its SQL (one module per table), over a runner: the
 * driver's own for the store, the transaction's for `tx`.
 */
class SqlOps implements StoreOps {
  protected readonly db: SqlRunner;

  constructor(db: SqlRunner) {
    this.db = db;
  }

  insertUser(user: UserRecord): Promise<void> {
    return users.insert(this.db, user);
  }
  findUserByUsername(username: string): Promise<UserRecord | null> {
    return users.findByUsername(this.db, username);
  }
  findUserById(id: string): Promise<UserRecord | null> {
    return users.findById(this.db, id);
  }
  listUsers(): Promise<UserRecord[]> {
    return users.list(this.db);
  }
  updatePasswordHash(userId: string, passwordHash: string): Promise<void> {
    return users.setPasswordHash(this.db, userId, passwordHash);
  }
  setUserDisabled(userId: string, disabledAt: number | null): Promise<void> {
    return users.setDisabled(this.db, userId, disabledAt);
  }
  setUserRoles(userId: string, roles: string[]): Promise<void> {
    return users.setRoles(this.db, userId, roles);
  }

  insertSession(session: SessionRecord): Promise<void> {
    return sessions.insert(this.db, session);
  }
  findSession(id: string): Promise<SessionRecord | null> {
    return sessions.find(this.db, id);
  }
  listLiveSessions(userId: string, now: number): Promise<SessionRecord[]> {
    return sessions.listLive(this.db, userId, now);
  }
  touchSession(id: string, lastUsedAt: number, idleExpiresAt: number): Promise<void> {
    return sessions.touch(this.db, id, lastUsedAt, idleExpiresAt);
  }
  endSession(id: string, at: number, reason: string): Promise<boolean> {
    return sessions.end(this.db, id, at, reason);
  }
  endUserSessions(userId: string, at: number, reason: string, exceptSessionId?: string): Promise<number> {
    return sessions.endAllOfUser(this.db, userId, at, reason, exceptSessionId);
  }
  pruneSessions(before: number): Promise<number> {
    return sessions.prune(this.db, before);
  }

  insertRefreshToken(token: RefreshTokenRecord): Promise<boolean> {
    return refreshTokens.insert(this.db, token);
  }
  findRefreshToken(hash: string): Promise<RefreshTokenRecord | null> {
    return refreshTokens.find(this.db, hash);
  }
  markRefreshTokenRotated(hash: string, at: number): Promise<boolean> {
    return refreshTokens.markRotated(this.db, hash, at);
  }

  listSigningKeys(): Promise<SigningKeyRecord[]> {
    return signingKeys.list(this.db);
  }
  insertSigningKey(key: SigningKeyRecord): Promise<void> {
    return signingKeys.insert(this.db, key);
  }
  updateSigningKey(kid: string, changes: SigningKeyChanges): Promise<void> {
    return signingKeys.update(this.db, kid, changes);
  }

  getSetting(name: string): Promise<string | null> {
    return settings.get(this.db, name);
  }
  putSettingIfAbsent(name: string, value: string): Promise<string> {
    return settings.putIfAbsent(this.db, name, value);
  }

  putPendingTotpFactor(factor: TotpFactorRecord): Promise<boolean> {
    return mfa.putPendingTotp(this.db, factor);
  }
  findTotpFactor(userId: string): Promise<TotpFactorRecord | null> {
    return mfa.findTotp(this.db, userId);
  }
  confirmTotpFactor(userId: string, at: number, step: number): Promise<boolean> {
    return mfa.confirmTotp(this.db, userId, at, step);
  }
  useTotpStep(userId: string, step: number): Promise<boolean> {
    return mfa.useTotpStep(this.db, userId, step);
  }
  deleteTotpFactor(userId: string): Promise<boolean> {
    return mfa.deleteTotp(this.db, userId);
  }
  replaceRecoveryCodes(userId: string, hashes: readonly string[], at: number): Promise<void> {
    return mfa.replaceRecoveryCodes(this.db, userId, hashes, at);
  }
  listUnusedRecoveryCodes(userId: string): Promise<RecoveryCodeRecord[]> {
    return mfa.listUnusedRecoveryCodes(this.db, userId);
  }
  useRecoveryCode(userId: string, hash: string, at: number): Promise<boolean> {
    return mfa.useRecoveryCode(this.db, userId, hash, at);
  }
  deleteRecoveryCodes(userId: string): Promise<void> {
    return mfa.deleteRecoveryCodes(this.db, userId);
  }
  insertMfaToken(token: MfaTokenRecord): Promise<void> {
    return mfa.insertMfaToken(this.db, token);
  }
  takeMfaTokenAttempt(hash: string, now: number, maxAttempts: number): Promise<MfaTokenRecord | null> {
    return mfa.takeMfaTokenAttempt(this.db, hash, now, maxAttempts);
  }
  consumeMfaToken(hash: string, at: number): Promise<boolean> {
    return mfa.consumeMfaToken(this.db, hash, at);
  }
  pruneMfaTokens(before: number): Promise<number> {
    return mfa.pruneMfaTokens(this.db, before);
  }
  findLiveMfaToken(hash: string, now: number, maxAttempts: number): Promise<MfaTokenRecord | null> {
    return mfa.findLiveMfaToken(this.db, hash, now, maxAttempts);
  }

  insertPasskey(passkey: PasskeyRecord): Promise<boolean> {
    return passkeys.insert(this.db, passkey);
  }
  listPasskeys(userId: string): Promise<PasskeyRecord[]> {
    return passkeys.list(this.db, userId);
  }
  findPasskey(id: string): Promise<PasskeyRecord | null> {
    return passkeys.find(this.db, id);
  }
  recordPasskeyUse(id: string, counter: number, backedUp: boolean, at: number): Promise<void> {
    return passkeys.recordUse(this.db, id, counter, backedUp, at);
  }
  renamePasskey(userId: string, id: string, name: string): Promise<boolean> {
    return passkeys.rename(this.db, userId, id, name);
  }
  deletePasskey(userId: string, id: string): Promise<boolean> {
    return passkeys.remove(this.db, userId, id);
  }
  deletePasskeys(userId: string): Promise<number> {
    return passkeys.removeAll(this.db, userId);
  }
  insertWebAuthnChallenge(challenge: WebAuthnChallengeRecord): Promise<void> {
    return passkeys.insertChallenge(this.db, challenge);
  }
  consumeWebAuthnChallenge(hash: string, now: number): Promise<WebAuthnChallengeRecord | null> {
    return passkeys.consumeChallenge(this.db, hash, now);
  }
  pruneWebAuthnChallenges(before: number): Promise<number> {
    return passkeys.pruneChallenges(this.db, before);
  }
}

/** The `tx` handed to transaction work. */
class SqlTransaction extends SqlOps implements TransactionOps {
  lockRefreshToken(hash: string): Promise<RefreshTokenRecord | null> {
    return refreshTokens.lock(this.db, hash);
  }
}

/**
 * The store on a SQL database: the statements, tables and migrations written once, run by
 * a driver that only knows its database (better-sqlite3 or pg). Open one with `openStore`.
 */
export class SqlStore extends SqlOps implements Store {
  readonly #driver: SqlDriver;

  constructor(driver: SqlDriver) {
    super(driver.db);
    this.#driver = driver;
  }

  /** Which database this is (for tests and diagnostics; Gatehouse itself never asks). */
  get dialect(): DialectName {
    return this.#driver.dialect.name;
  }

  async migrate(): Promise<void> {
    await migrate(this.#driver);
  }

  transaction<T>(work: (tx: TransactionOps) => Promise<T>): Promise<T> {
    return this.#driver.transaction((runner) => work(new SqlTransaction(runner)));
  }

  counters(): Promise<CounterStore> {
    return this.#driver.counters();
  }

  async ping(): Promise<void> {
    await this.db.get(PING, []);
  }

  schemaIsCurrent(): Promise<boolean> {
    return isSchemaCurrent(this.db);
  }

  close(): Promise<void> {
    return this.#driver.close();
  }
}
