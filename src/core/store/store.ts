import type { AuditEventStore } from "./audit-events.ts";
import type { ChangeFeedCapability } from "./change-feed.ts";
import type { CounterStore } from "./counters.ts";
import type { MailTokenStore } from "./mail-tokens.ts";
import type { MfaStore } from "./mfa.ts";
import type { PasskeyStore } from "./passkeys.ts";
import type { OutboxClaims, OutboxStore } from "./outbox.ts";
import type { RefreshRotationCapability } from "./refresh-rotation.ts";
import type { RefreshTokenLocks, RefreshTokenStore } from "./refresh-tokens.ts";
import type { SessionLocks, SessionStore } from "./sessions.ts";
import type { SettingsStore } from "./settings.ts";
import type { SigningKeyStore } from "./signing-keys.ts";
import type { StoredSecretStore } from "./stored-secrets.ts";
import type { UserStore } from "./users.ts";

export type { PasskeyRecord, PasskeyStore, WebAuthnChallengeRecord } from "./passkeys.ts";
export type { MfaStore, MfaTokenRecord, RecoveryCodeRecord, TotpFactorRecord } from "./mfa.ts";
export type {
  ChangeFeedCapability,
  ChangeListener,
  ChangeSubscription,
  EndedSession,
  StoreChange,
} from "./change-feed.ts";
export type { AuditEventQuery, AuditEventRecord, AuditEventStore } from "./audit-events.ts";
export type { CounterLimiter, CounterOptions, CounterStore } from "./counters.ts";
export type {
  RefreshRotationCapability,
  RefreshRotationRequest,
  RefreshRotationResult,
  ReusedSession,
} from "./refresh-rotation.ts";
export type { MailTokenPurpose, MailTokenRecord, MailTokenStore } from "./mail-tokens.ts";
export type { OutboxClaimRequest, OutboxClaims, OutboxFailure, OutboxRecord, OutboxStore } from "./outbox.ts";
export type { RefreshTokenLocks, RefreshTokenRecord, RefreshTokenStore } from "./refresh-tokens.ts";
export type { SessionCursor, SessionLocks, SessionRecord, SessionStore } from "./sessions.ts";
export type { SettingsStore } from "./settings.ts";
export type { SigningKeyChanges, SigningKeyRecord, SigningKeyStore } from "./signing-keys.ts";
export type { StoredSecret, StoredSecretStore } from "./stored-secrets.ts";
export type { UserRecord, UserStore } from "./users.ts";

/*
 * The storage port: what Gatehouse needs from a database, split by role, with nothing of a
 * driver in it. Every method is async; times are milliseconds since the epoch; secrets such
 * as refresh tokens are stored only as hashes, and those read back (private keys, the
 * rotation key) sealed by the SecretBox. A driver failure (connection lost, disk
 * error, busy) surfaces as AuthError("unavailable"), never as the driver's own error.
 */

/** Every role's operations; available on the store and inside a transaction. */
export interface StoreOps
  extends UserStore,
    SessionStore,
    RefreshTokenStore,
    SigningKeyStore,
    SettingsStore,
    MfaStore,
    PasskeyStore,
    OutboxStore,
    AuditEventStore,
    MailTokenStore {}

/** What a transaction's work may do: every operation, plus row locks and work to run once it commits. */
export interface TransactionOps extends StoreOps, RefreshTokenLocks, SessionLocks {
  /**
   * Runs `callback` right after this transaction commits, never when it rolls back (e.g. to
   * tell in-process listeners about an event, or wake a worker for a new outbox message).
   * Callbacks run in order; one that throws is ignored, so each handles its own errors.
   */
  afterCommit(callback: () => void): void;
}

/**
 * A database Gatehouse can run on. Beyond the roles, a store offers capabilities: what a
 * database does in its own way (counters every instance shares, a change feed, a refresh
 * rotation in one round trip). A capability is a method of the store, so a store that cannot
 * provide it says so by type, and Gatehouse checks for it once, at start-up. The optional
 * ones have a fallback: without a change feed every session check reads the database; without
 * `rotateRefreshToken` a rotation runs as a transaction of the role operations.
 */
export interface Store
  extends StoreOps,
    StoredSecretStore,
    OutboxClaims,
    Partial<ChangeFeedCapability>,
    Partial<RefreshRotationCapability> {
  /** Creates or upgrades the schema. Idempotent; safe when several instances start at once. */
  migrate(): Promise<void>;
  /**
   * Runs `work` atomically: every write commits, or (when `work` throws) none does, and the
   * error is rethrown. Inside, use only `tx`; it refuses to work once the transaction ended.
   */
  transaction<T>(work: (tx: TransactionOps) => Promise<T>): Promise<T>;
  /**
   * The counters the login and registration throttles use, ready to count (whatever they
   * need, such as a table, exists once this resolves). A store that only one process uses
   * may return per-process counters (scope "process").
   */
  counters(): Promise<CounterStore>;
  /** Cheap liveness probe; throws AuthError("unavailable") when the database is down. */
  ping(): Promise<void>;
  /**
   * Whether every schema step this version of Gatehouse knows is applied (readiness: false
   * after, say, restoring a dump older than the running code).
   */
  schemaIsCurrent(): Promise<boolean>;
  /** Closes the connection(s) once queued work has finished. Idempotent. */
  close(): Promise<void>;
}
