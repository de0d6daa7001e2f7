import { randomUUID } from "node:crypto";
import type { Clock } from "../clock.ts";
import { AuthError, isAuthError } from "../errors.ts";
import { type Metrics, NO_METRICS, type RefreshResult } from "../observability/metrics.ts";
import { NO_SECURITY_LOG, type SecurityLog } from "../observability/security-log.ts";
import type { SecurityEvents } from "../events/security-events.ts";
import type { RevocationList, RevocationStatus } from "../revocation/revocation-list.ts";
import type {
  RefreshRotationRequest,
  RefreshRotationResult,
  SessionCursor,
  SessionRecord,
  Store,
  StoreOps,
  TransactionOps,
  UserRecord,
} from "../store/store.ts";
import {
  deriveSuccessorToken,
  generateRefreshToken,
  hashRefreshToken,
  isWellFormedRefreshToken,
} from "./refresh-token.ts";
import { isSessionLive, rotateInTransaction } from "./rotate-in-transaction.ts";

export { isSessionLive } from "./rotate-in-transaction.ts";

export interface SessionLifetimes {
  idleSeconds: number;
  absoluteSeconds: number;
  graceSeconds: number;
}

export interface SessionMeta {
  userAgent: string | null;
  ip: string | null;
}

export interface IssuedSession {
  session: SessionRecord;
  /** The opaque refresh token to hand to the client. */
  refreshToken: string;
}

/** A rotation also returns the session's user, read in the same transaction. */
export interface RotatedSession extends IssuedSession {
  user: UserRecord;
}

/** How far a late request may follow a chain of rotations inside the grace window. */
const MAX_SUCCESSOR_WALK = 16;

const invalidGrant = (message: string) => new AuthError("invalid_grant", message);
const EXPIRED = "Your session has expired. Log in again.";
const ENDED = "This session has ended. Log in again.";

/** What a rotation counts as in the metrics. */
function refreshResultOf(outcome: RefreshRotationResult["outcome"], head: string | null): RefreshResult {
  if (outcome === "rotated" || outcome === "reused") return outcome;
  return outcome === "grace" && head !== null ? "grace" : "invalid";
}

/** Where session checks are answered from: the revocation list's state plus how often the database was asked. */
export interface SessionCheckStatus extends RevocationStatus {
  /** Session checks answered by a database read (no feed, or the feed could not vouch). */
  databaseChecks: number;
}

/**
 * Refresh-token sessions: issue at login, rotate on refresh with reuse detection,
 * end on logout. All writes for one refresh happen atomically (one statement on
 * PostgreSQL, one transaction elsewhere; a reuse's ending, event and notice in one
 * transaction on both), so a failure part-way leaves nothing half-written and nothing consumed.
 */
export class SessionService {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #lifetimes: SessionLifetimes;
  readonly #rotationKey: Buffer;
  readonly #metrics: Metrics;
  readonly #log: SecurityLog;
  readonly #maxPerUser: number;
  readonly #revocations: RevocationList | undefined;
  #databaseChecks = 0;
  readonly #events: SecurityEvents | undefined;
  /**
   * Called in the transaction that ends a session on a refresh-token reuse (the user's security
   * notice is queued there, so it exists exactly when the session was ended and the reuse recorded).
   */
  onRefreshReused: ((tx: TransactionOps, user: UserRecord) => Promise<void>) | undefined;

  /**
   * `maxPerUser`: live sessions a user may have; a login past it ends the oldest (setting `maxSessionsPerUser`).
   * Without `revocations` (a store with no change feed) every session check reads the database.
   */
  constructor(
    store: Store,
    clock: Clock,
    lifetimes: SessionLifetimes,
    rotationKey: Buffer,
    maxPerUser: number,
    /** With `events`, starts and reuse detections are recorded (see start and rotate). */
    parts: {
      metrics?: Metrics;
      log?: SecurityLog;
      revocations?: RevocationList | undefined;
      events?: SecurityEvents;
    } = {},
  ) {
    this.#store = store;
    this.#clock = clock;
    this.#lifetimes = lifetimes;
    this.#rotationKey = rotationKey;
    this.#maxPerUser = maxPerUser;
    this.#metrics = parts.metrics ?? NO_METRICS;
    this.#log = parts.log ?? NO_SECURITY_LOG;
    this.#revocations = parts.revocations;
    this.#events = parts.events;
  }

  /**
   * Starts a session. `amr`: how the user proved it (RFC 8176); every access token of the session
   * carries it. `alsoInTransaction` runs in the same transaction (e.g. to record the login).
   */
  async start(
    userId: string,
    meta: SessionMeta,
    amr: readonly string[] = ["pwd"],
    alsoInTransaction?: (tx: TransactionOps, session: SessionRecord) => Promise<void>,
  ): Promise<IssuedSession> {
    const now = this.#clock.now();
    const absoluteExpiresAt = now + this.#lifetimes.absoluteSeconds * 1000;
    const session: SessionRecord = {
      id: randomUUID(),
      userId,
      createdAt: now,
      lastUsedAt: now,
      absoluteExpiresAt,
      idleExpiresAt: Math.min(now + this.#lifetimes.idleSeconds * 1000, absoluteExpiresAt),
      endedAt: null,
      endReason: null,
      userAgent: meta.userAgent,
      ip: meta.ip,
      amr: [...amr],
    };
    const refreshToken = generateRefreshToken();
    await this.#store.transaction(async (tx) => {
      // Concurrent logins of one user take turns here, so the cap counts every one of them.
      await tx.lockUserSessions(userId);
      await tx.insertSession(session);
      await tx.insertRefreshToken({
        hash: hashRefreshToken(refreshToken),
        sessionId: session.id,
        createdAt: now,
        rotatedAt: null,
      });
      // Through endSession, like every other ending, so whoever watches ended sessions sees these too.
      for (const oldest of await tx.listLiveSessionIdsBeyond(userId, now, this.#maxPerUser)) {
        await tx.endSession(oldest, now, "session_limit");
        await this.#events?.record(tx, {
          type: "session_revoked",
          userId,
          sessionId: oldest,
          ip: meta.ip,
          userAgent: meta.userAgent,
          data: { by: "session_limit" },
        });
      }
      await alsoInTransaction?.(tx, session);
    });
    return { session, refreshToken };
  }

  /**
   * Exchanges a refresh token for its successor.
   * - live token: the derived successor is stored, the old one marked rotated;
   * - rotated inside the grace window: the same successor again (or the live head of the chain);
   * - rotated after the grace window: reuse — the whole session ends;
   * - session ended, expired or its user disabled: invalid_grant.
   */
  async rotate(refreshToken: unknown, caller?: SessionMeta): Promise<RotatedSession> {
    if (!isWellFormedRefreshToken(refreshToken)) {
      this.#metrics.refresh("invalid");
      throw invalidGrant("The refresh token is missing or malformed. Log in again.");
    }
    const successor = deriveSuccessorToken(this.#rotationKey, refreshToken);
    const onReused = this.#reuseRecorder(caller);
    const request: RefreshRotationRequest = {
      hash: hashRefreshToken(refreshToken),
      successorHash: hashRefreshToken(successor),
      now: this.#clock.now(),
      idleMs: this.#lifetimes.idleSeconds * 1000,
      graceMs: this.#lifetimes.graceSeconds * 1000,
      ...(onReused === undefined ? {} : { onReused }),
    };
    let result: RefreshRotationResult;
    let head: string | null = null;
    try {
      result = this.#store.rotateRefreshToken
        ? await this.#store.rotateRefreshToken(request)
        : await rotateInTransaction(this.#store, request);
      if (result.outcome === "grace") head = await this.#liveHead(refreshToken);
    } catch (error) {
      this.#metrics.refresh(isAuthError(error) && error.code === "unavailable" ? "unavailable" : "error");
      throw error;
    }
    this.#metrics.refresh(refreshResultOf(result.outcome, head));
    switch (result.outcome) {
      case "rotated":
        return { session: result.session, refreshToken: successor, user: result.user };
      case "grace":
        if (!head) throw invalidGrant(ENDED);
        return { session: result.session, refreshToken: head, user: result.user };
      case "reused": {
        const fields = { userId: result.userId, sessionId: result.sessionId, ip: caller?.ip ?? null };
        this.#log.warn(fields, "refresh token reused: session ended");
        throw invalidGrant(
          "This refresh token was already used, so the session has been ended to protect you. Log in again.",
        );
      }
      case "unknown":
        throw invalidGrant("The refresh token is not recognised. Log in again.");
      case "expired":
        throw invalidGrant(EXPIRED);
      default:
        throw invalidGrant(ENDED);
    }
  }

  /**
   * What a reuse writes in the transaction that ends its session: the refresh_reused event and
   * the user's notice. One commit, so a session never ends on a reuse without them, and a
   * failure to write them (503) leaves the session as it was for the next reuse to end.
   */
  #reuseRecorder(caller: SessionMeta | undefined): RefreshRotationRequest["onReused"] {
    const events = this.#events;
    const notify = this.onRefreshReused;
    if (events === undefined && notify === undefined) return undefined;
    return async (tx, { sessionId, userId }) => {
      const input = {
        type: "refresh_reused" as const,
        userId,
        sessionId,
        ip: caller?.ip ?? null,
        userAgent: caller?.userAgent ?? null,
      };
      await events?.record(tx, input);
      const user = notify === undefined ? null : await tx.findUserById(userId);
      if (user) await notify?.(tx, user);
    };
  }

  /**
   * Follows derived successors from a rotated token to the one that is still live. Each read
   * sees what committed before it, so a rotation that won the race just now is found.
   */
  async #liveHead(rotated: string): Promise<string | null> {
    let token = rotated;
    for (let step = 0; step < MAX_SUCCESSOR_WALK; step++) {
      token = deriveSuccessorToken(this.#rotationKey, token);
      const row = await this.#store.findRefreshToken(hashRefreshToken(token));
      if (!row) return null;
      if (row.rotatedAt === null) return token;
    }
    return null;
  }

  /** Which session does this refresh token belong to (without consuming it)? */
  async sessionIdOf(refreshToken: unknown): Promise<string | null> {
    if (!isWellFormedRefreshToken(refreshToken)) return null;
    const row = await this.#store.findRefreshToken(hashRefreshToken(refreshToken));
    return row?.sessionId ?? null;
  }

  /** Ends a session (in `db`, e.g. the caller's transaction); returns whether it was still open. */
  async end(sessionId: string, reason: string, db: StoreOps = this.#store): Promise<boolean> {
    return db.endSession(sessionId, this.#clock.now(), reason);
  }

  async endAllForUser(
    userId: string,
    reason: string,
    exceptSessionId?: string,
    db: StoreOps = this.#store,
  ): Promise<number> {
    return db.endUserSessions(userId, this.#clock.now(), reason, exceptSessionId);
  }

  /**
   * Is this session of this user live? Answered from memory (synchronously, no database read)
   * while the revocation list can vouch for it, else by reading the session.
   */
  isLive(sessionId: string, userId: string): boolean | Promise<boolean> {
    const ended = this.#revocations?.check(sessionId);
    if (ended !== undefined) return !ended;
    this.#databaseChecks++;
    return this.findLive(sessionId).then((session) => session !== null && session.userId === userId);
  }

  checkStatus(): SessionCheckStatus {
    const list = this.#revocations?.status() ?? {
      phase: "down" as const,
      answersFromMemory: false,
      entries: 0,
      catchUps: 0,
    };
    return { ...list, databaseChecks: this.#databaseChecks };
  }

  /** The session if it is live now, else null. */
  async findLive(sessionId: string): Promise<SessionRecord | null> {
    const session = await this.#store.findSession(sessionId);
    return session && isSessionLive(session, this.#clock.now()) ? session : null;
  }

  async listLive(userId: string): Promise<SessionRecord[]> {
    return this.#store.listLiveSessions(userId, this.#clock.now());
  }

  /** One page of the user's live sessions, newest first, after `after` (null: from the newest). */
  async listLivePage(userId: string, limit: number, after: SessionCursor | null): Promise<SessionRecord[]> {
    return this.#store.listLiveSessionsPage(userId, this.#clock.now(), limit, after);
  }

  /**
   * Deletes sessions that ended or expired more than `retentionSeconds` ago (with their refresh
   * tokens); returns how many and the cut-off time.
   */
  async prune(retentionSeconds: number): Promise<{ removed: number; before: number }> {
    const before = this.#clock.now() - retentionSeconds * 1000;
    return { removed: await this.#store.pruneSessions(before), before };
  }
}
