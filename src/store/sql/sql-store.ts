import type { CounterStore } from "../../core/store/counters.ts";
import type { MailTokenPurpose, MailTokenRecord } from "../../core/store/mail-tokens.ts";
import type { OutboxClaimRequest, OutboxFailure, OutboxRecord } from "../../core/store/outbox.ts";
import type { RefreshTokenRecord } from "../../core/store/refresh-tokens.ts";
import type { SessionRecord } from "../../core/store/sessions.ts";
import type { SigningKeyChanges, SigningKeyRecord } from "../../core/store/signing-keys.ts";
import type { Store, StoreOps, TransactionOps } from "../../core/store/store.ts";
import type { UserRecord } from "../../core/store/users.ts";
import type { DialectName } from "./dialect.ts";
import type { SqlDriver, SqlRunner } from "./driver.ts";
import * as mailTokens from "./mail-tokens.ts";
import { isSchemaCurrent, migrate } from "./migrate.ts";
import * as outbox from "./outbox.ts";
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
  findUserByEmail(email: string): Promise<UserRecord | null> {
    return users.findByEmail(this.db, email);
  }
  setUserEmail(userId: string, email: string | null, verifiedAt: number | null): Promise<void> {
    return users.setEmail(this.db, userId, email, verifiedAt);
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

  insertMailToken(token: MailTokenRecord): Promise<void> {
    return mailTokens.insert(this.db, token);
  }
  findMailToken(hash: string): Promise<MailTokenRecord | null> {
    return mailTokens.find(this.db, hash);
  }
  useMailToken(hash: string, at: number): Promise<boolean> {
    return mailTokens.use(this.db, hash, at);
  }
  voidMailTokens(userId: string, purpose: MailTokenPurpose, at: number): Promise<number> {
    return mailTokens.voidAll(this.db, userId, purpose, at);
  }
  pruneMailTokens(before: number): Promise<number> {
    return mailTokens.prune(this.db, before);
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

  insertOutboxMessage(message: OutboxRecord): Promise<void> {
    return outbox.insert(this.db, message);
  }
  findOutboxMessage(id: string): Promise<OutboxRecord | null> {
    return outbox.find(this.db, id);
  }
  markOutboxDelivered(id: string, at: number): Promise<boolean> {
    return outbox.markDelivered(this.db, id, at);
  }
  markOutboxFailed(id: string, failure: OutboxFailure): Promise<boolean> {
    return outbox.markFailed(this.db, id, failure);
  }
  countOutboxBacklog(): Promise<number> {
    return outbox.countBacklog(this.db);
  }
  pruneOutbox(deliveredBefore: number, deadBefore: number): Promise<number> {
    return outbox.prune(this.db, deliveredBefore, deadBefore);
  }
}

/** The `tx` handed to transaction work. */
class SqlTransaction extends SqlOps implements TransactionOps {
  readonly committed: (() => void)[] = [];

  lockRefreshToken(hash: string): Promise<RefreshTokenRecord | null> {
    return refreshTokens.lock(this.db, hash);
  }
  afterCommit(callback: () => void): void {
    this.committed.push(callback);
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

  async transaction<T>(work: (tx: TransactionOps) => Promise<T>): Promise<T> {
    let tx: SqlTransaction | undefined;
    const result = await this.#driver.transaction((runner) => work((tx = new SqlTransaction(runner))));
    for (const callback of tx?.committed ?? []) {
      try {
        callback();
      } catch {
        // The work has committed; a listener's failure must not turn that into an error.
      }
    }
    return result;
  }

  async claimOutboxMessages(request: OutboxClaimRequest): Promise<OutboxRecord[]> {
    if (!(await outbox.anyDue(this.db, request))) return [];
    return this.#driver.transaction((tx) => outbox.claim(tx, request));
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
