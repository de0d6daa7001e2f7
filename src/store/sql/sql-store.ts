import type { CounterStore } from "../../core/store/counters.ts";
import type { RefreshTokenRecord } from "../../core/store/refresh-tokens.ts";
import type { SessionCursor, SessionRecord } from "../../core/store/sessions.ts";
import type { SigningKeyChanges, SigningKeyRecord } from "../../core/store/signing-keys.ts";
import type { Store, StoreOps, TransactionOps } from "../../core/store/store.ts";
import type { StoredSecret } from "../../core/store/stored-secrets.ts";
import type { UserRecord } from "../../core/store/users.ts";
import type { DialectName } from "./dialect.ts";
import type { SqlDriver, SqlRunner } from "./driver.ts";
import { isSchemaCurrent, migrate } from "./migrate.ts";
import * as refreshTokens from "./refresh-tokens.ts";
import * as sessions from "./sessions.ts";
import * as settings from "./settings.ts";
import * as signingKeys from "./signing-keys.ts";
import { statement } from "./statement.ts";
import * as storedSecrets from "./stored-secrets.ts";
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
  listLiveSessionsPage(
    userId: string,
    now: number,
    limit: number,
    after: SessionCursor | null,
  ): Promise<SessionRecord[]> {
    return sessions.listLivePage(this.db, userId, now, limit, after);
  }
  listLiveSessionIdsBeyond(userId: string, now: number, keep: number): Promise<string[]> {
    return sessions.listLiveIdsBeyond(this.db, userId, now, keep);
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
}

/** The `tx` handed to transaction work. */
class SqlTransaction extends SqlOps implements TransactionOps {
  lockRefreshToken(hash: string): Promise<RefreshTokenRecord | null> {
    return refreshTokens.lock(this.db, hash);
  }
  lockUserSessions(userId: string): Promise<void> {
    return sessions.lockUser(this.db, userId);
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

  listStoredSecrets(): Promise<StoredSecret[]> {
    return storedSecrets.list(this.db);
  }

  async rewriteStoredSecrets(rewrite: (secret: StoredSecret) => string | undefined): Promise<number> {
    const changed = await this.#driver.transaction((tx) => storedSecrets.rewrite(tx, rewrite));
    // The values replaced may have been plain text: keep no copy in the write-ahead log.
    if (changed > 0) await this.#driver.truncateWriteAheadLog();
    return changed;
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
