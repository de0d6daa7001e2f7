import type { AuditEventQuery, AuditEventRecord } from "../../core/store/audit-events.ts";
import { endReusedSession, rotateInTransaction } from "../../core/sessions/rotate-in-transaction.ts";
import type { ChangeListener, ChangeSubscription, EndedSession, StoreChange } from "../../core/store/change-feed.ts";
import type { CounterStore } from "../../core/store/counters.ts";
import type { MfaTokenRecord, RecoveryCodeRecord, TotpFactorRecord } from "../../core/store/mfa.ts";
import type { PasskeyRecord, WebAuthnChallengeRecord } from "../../core/store/passkeys.ts";
import type { RefreshRotationRequest, RefreshRotationResult } from "../../core/store/refresh-rotation.ts";
import type { MailTokenPurpose, MailTokenRecord } from "../../core/store/mail-tokens.ts";
import type { OutboxClaimRequest, OutboxFailure, OutboxRecord } from "../../core/store/outbox.ts";
import type { RefreshTokenRecord } from "../../core/store/refresh-tokens.ts";
import type { SessionCursor, SessionRecord } from "../../core/store/sessions.ts";
import type { SigningKeyChanges, SigningKeyRecord } from "../../core/store/signing-keys.ts";
import type { Store, StoreOps, TransactionOps } from "../../core/store/store.ts";
import type { StoredSecret } from "../../core/store/stored-secrets.ts";
import type { UserRecord } from "../../core/store/users.ts";
import * as auditEvents from "./audit-events.ts";
import type { SqlDriver, SqlRunner } from "./driver.ts";
import { CHANGE_CHANNEL_SQL, type DialectName } from "./dialect.ts";
import * as mailTokens from "./mail-tokens.ts";
import * as mfa from "./mfa.ts";
import { isSchemaCurrent, migrate } from "./migrate.ts";
import * as passkeys from "./passkeys.ts";
import { rotateInOneStatement } from "./refresh-rotation.ts";
import * as outbox from "./outbox.ts";
import * as refreshTokens from "./refresh-tokens.ts";
import * as sessions from "./sessions.ts";
import * as settings from "./settings.ts";
import * as signingKeys from "./signing-keys.ts";
import { statement } from "./statement.ts";
import * as storedSecrets from "./stored-secrets.ts";
import * as users from "./users.ts";

const PING = statement<[], unknown>("ping", "SELECT 1");
// Key changes are rare: a notification of their own, sent right after the write (on commit in a transaction).
const NOTIFY_KEYS_CHANGED = statement<[], unknown>(
  "notifyKeysChanged",
  `SELECT pg_notify(${CHANGE_CHANNEL_SQL}, 'k') AS notified`,
  { onlyFor: "postgres" },
);
const KEYS_CHANGED: StoreChange = { kind: "signing_keys_changed" };

const sessionEnded = (ended: EndedSession): StoreChange => ({
  kind: "session_ended",
  sessionId: ended.id,
  endedAt: ended.endedAt,
});

/** Hands committed changes to this process's listeners (a transaction holds them until it commits). */
type Announce = (changes: readonly StoreChange[]) => void;

/**
 * Every port operation bound to its SQL (one module per table), over a runner: the
 * driver's own for the store, the transaction's for `tx`.
 */
class SqlOps implements StoreOps {
  protected readonly db: SqlRunner;
  protected readonly announce: Announce;

  constructor(db: SqlRunner, announce: Announce) {
    this.db = db;
    this.announce = announce;
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
  async endSession(id: string, at: number, reason: string): Promise<boolean> {
    const ended = await sessions.end(this.db, id, at, reason);
    this.announce(ended.map(sessionEnded));
    return ended.length > 0;
  }
  async endUserSessions(userId: string, at: number, reason: string, exceptSessionId?: string): Promise<number> {
    const ended = await sessions.endAllOfUser(this.db, userId, at, reason, exceptSessionId);
    this.announce(ended.map(sessionEnded));
    return ended.length;
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
  async insertSigningKey(key: SigningKeyRecord): Promise<void> {
    await signingKeys.insert(this.db, key);
    await this.#keysChanged();
  }
  async updateSigningKey(kid: string, changes: SigningKeyChanges): Promise<void> {
    await signingKeys.update(this.db, kid, changes);
    await this.#keysChanged();
  }

  async #keysChanged(): Promise<void> {
    if (this.db.dialect.name === "postgres") await this.db.get(NOTIFY_KEYS_CHANGED, []);
    this.announce([KEYS_CHANGED]);
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

  insertAuditEvent(event: AuditEventRecord): Promise<void> {
    return auditEvents.insert(this.db, event);
  }
  listAuditEvents(query: AuditEventQuery): Promise<AuditEventRecord[]> {
    return auditEvents.list(this.db, query);
  }
  pruneAuditEvents(before: number): Promise<number> {
    return auditEvents.prune(this.db, before);
  }
}

/** The `tx` handed to transaction work. */
class SqlTransaction extends SqlOps implements TransactionOps {
  readonly afterCommitCallbacks: (() => void)[] = [];

  lockRefreshToken(hash: string): Promise<RefreshTokenRecord | null> {
    return refreshTokens.lock(this.db, hash);
  }
  lockUserSessions(userId: string): Promise<void> {
    return sessions.lockUser(this.db, userId);
  }
  afterCommit(callback: () => void): void {
    this.afterCommitCallbacks.push(callback);
  }
}

/**
 * The store on a SQL database: the statements, tables and migrations written once, run by
 * a driver that only knows its database (better-sqlite3 or pg). Open one with `openStore`.
 *
 * Its change feed has two sources: changes made through this store, handed to listeners as
 * soon as they commit, and the driver's feed of what other processes commit.
 */
export class SqlStore extends SqlOps implements Store {
  readonly #driver: SqlDriver;
  readonly #feed: ChangeFanOut;

  constructor(driver: SqlDriver) {
    const feed = new ChangeFanOut((listener) => driver.openChangeFeed(listener));
    super(driver.db, (changes) => feed.publish(changes));
    this.#driver = driver;
    this.#feed = feed;
  }

  /** Which database this is (for tests and diagnostics; Gatehouse itself never asks). */
  get dialect(): DialectName {
    return this.#driver.dialect.name;
  }

  async migrate(): Promise<void> {
    await migrate(this.#driver);
  }

  async transaction<T>(work: (tx: TransactionOps) => Promise<T>): Promise<T> {
    const committed: StoreChange[] = [];
    let tx: SqlTransaction | undefined;
    const result = await this.#driver.transaction((runner) =>
      work((tx = new SqlTransaction(runner, (changes) => committed.push(...changes)))),
    );
    if (committed.length > 0) this.#feed.publish(committed);
    for (const callback of tx?.afterCommitCallbacks ?? []) {
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

  /**
   * PostgreSQL: one statement, one round trip. SQLite: a transaction (it runs in-process anyway).
   * On PostgreSQL the statement only reports a reuse; the session is ended here, in one
   * transaction with what `onReused` writes, by whichever concurrent reuse gets there first.
   */
  async rotateRefreshToken(request: RefreshRotationRequest): Promise<RefreshRotationResult> {
    if (this.#driver.dialect.name !== "postgres") return rotateInTransaction(this, request);
    const { result, ended } = await rotateInOneStatement(this.db, request);
    if (ended) this.announce([sessionEnded(ended)]);
    if (result.outcome !== "reused") return result;
    const reused = { sessionId: result.sessionId, userId: result.userId };
    const endedHere = await this.transaction((tx) => endReusedSession(tx, request, reused));
    return endedHere ? result : { outcome: "ended" };
  }

  subscribeChanges(listener: ChangeListener): ChangeSubscription {
    return this.#feed.subscribe(listener);
  }

  listEndedSessions(after: EndedSession, limit: number): Promise<EndedSession[]> {
    return sessions.listEnded(this.db, after, limit);
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

  async close(): Promise<void> {
    await this.#feed.close();
    await this.#driver.close();
  }
}

/**
 * One driver feed shared by every listener of a store: opened with the first subscription,
 * closed with the last. A listener that joins while the feed is connected is told so at once,
 * so it catches up like everyone else. A throwing listener cannot stop the others.
 */
class ChangeFanOut {
  readonly #open: (listener: ChangeListener) => ChangeSubscription;
  readonly #listeners = new Set<ChangeListener>();
  #driverFeed: ChangeSubscription | undefined;
  #connected = false;

  constructor(open: (listener: ChangeListener) => ChangeSubscription) {
    this.#open = open;
  }

  publish(changes: readonly StoreChange[]): void {
    for (const change of changes) this.#each((listener) => listener.change(change));
  }

  subscribe(listener: ChangeListener): ChangeSubscription {
    this.#listeners.add(listener);
    if (this.#driverFeed === undefined) {
      this.#driverFeed = this.#open({
        change: (change) => this.#each((each) => each.change(change)),
        connected: () => {
          this.#connected = true;
          this.#each((each) => each.connected());
        },
        synced: (sentAt) => this.#each((each) => each.synced(sentAt)),
        lost: (error) => {
          this.#connected = false;
          this.#each((each) => each.lost(error));
        },
      });
    } else if (this.#connected) {
      safely(() => listener.connected());
    }
    let closed = false;
    return {
      close: async () => {
        if (closed) return;
        closed = true;
        this.#listeners.delete(listener);
        if (this.#listeners.size === 0) await this.close();
      },
    };
  }

  /** Listeners still subscribed are told the feed is gone, so none goes on vouching for it. */
  async close(): Promise<void> {
    if (this.#driverFeed !== undefined) this.#each((listener) => listener.lost(new Error("The store was closed.")));
    this.#listeners.clear();
    const feed = this.#driverFeed;
    this.#driverFeed = undefined;
    this.#connected = false;
    await feed?.close();
  }

  #each(call: (listener: ChangeListener) => void): void {
    for (const listener of this.#listeners) safely(() => call(listener));
  }
}

function safely(call: () => void): void {
  try {
    call();
  } catch {
    // A listener's failure is its own; the feed goes on for the others.
  }
}
