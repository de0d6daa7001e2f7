import { randomUUID } from "node:crypto";
import type { Clock } from "../clock.ts";
import { AuthError, isAuthError } from "../errors.ts";
import { type Metrics, NO_METRICS, type RefreshResult } from "../observability/metrics.ts";
import { NO_SECURITY_LOG, type SecurityLog } from "../observability/security-log.ts";
import type { SessionRecord, Store, TransactionOps, UserRecord } from "../store/store.ts";
import {
  deriveSuccessorToken,
  generateRefreshToken,
  hashRefreshToken,
  isWellFormedRefreshToken,
} from "./refresh-token.ts";

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

/** Is the session open and inside both its idle and absolute lifetimes at `now`? */
export function isSessionLive(session: SessionRecord, now: number): boolean {
  return session.endedAt === null && now < session.idleExpiresAt && now < session.absoluteExpiresAt;
}

/**
 * Refresh-token sessions: issue at login, rotate on refresh with reuse detection,
 * end on logout. All writes for one refresh happen in one store transaction, so a
 * failure part-way leaves nothing half-written and nothing consumed.
 */
export class SessionService {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #lifetimes: SessionLifetimes;
  readonly #rotationKey: Buffer;
  /**
   * Called inside the transaction that ends a session for refresh-token reuse (the user's
   * security notice is queued there, so it exists exactly when the session ended).
   */
  onRefreshReused: ((tx: TransactionOps, user: UserRecord) => Promise<void>) | undefined;
  readonly #metrics: Metrics;
  readonly #log: SecurityLog;

  constructor(
    store: Store,
    clock: Clock,
    lifetimes: SessionLifetimes,
    rotationKey: Buffer,
    observe: { metrics?: Metrics; log?: SecurityLog } = {},
  ) {
    this.#store = store;
    this.#clock = clock;
    this.#lifetimes = lifetimes;
    this.#rotationKey = rotationKey;
    this.#metrics = observe.metrics ?? NO_METRICS;
    this.#log = observe.log ?? NO_SECURITY_LOG;
  }

  async start(userId: string, meta: SessionMeta): Promise<IssuedSession> {
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
    };
    const refreshToken = generateRefreshToken();
    await this.#store.transaction(async (tx) => {
      await tx.insertSession(session);
      await tx.insertRefreshToken({
        hash: hashRefreshToken(refreshToken),
        sessionId: session.id,
        createdAt: now,
        rotatedAt: null,
      });
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
    // Set by the transaction's last run: what happened, and which session a reuse ended.
    let result: RefreshResult = "invalid";
    let reused: SessionRecord | undefined;
    const outcome = await this.#store.transaction(async (tx): Promise<RotatedSession | AuthError> => {
      result = "invalid";
      reused = undefined;
      const now = this.#clock.now();
      const row = await tx.lockRefreshToken(hashRefreshToken(refreshToken));
      if (!row) return invalidGrant("The refresh token is not recognised. Log in again.");
      const session = await tx.findSession(row.sessionId);
      if (!session || session.endedAt !== null) return invalidGrant(ENDED);
      if (!isSessionLive(session, now)) {
        await tx.endSession(session.id, now, "expired");
        return invalidGrant(EXPIRED);
      }
      const user = await tx.findUserById(session.userId);
      if (!user || user.disabledAt !== null) {
        await tx.endSession(session.id, now, "user_disabled");
        return invalidGrant(ENDED);
      }
      if (row.rotatedAt !== null) {
        if (now - row.rotatedAt > this.#lifetimes.graceSeconds * 1000) {
          await tx.endSession(session.id, now, "refresh_token_reuse");
          await this.onRefreshReused?.(tx, user);
          result = "reused";
          reused = session;
          return invalidGrant("This refresh token was already used, so the session has been ended to protect you. Log in again.");
        }
        const head = await this.#liveHead(tx, refreshToken);
        if (!head) return invalidGrant(ENDED);
        result = "grace";
        return { session, refreshToken: head, user };
      }
      const successor = deriveSuccessorToken(this.#rotationKey, refreshToken);
      await tx.insertRefreshToken({
        hash: hashRefreshToken(successor),
        sessionId: session.id,
        createdAt: now,
        rotatedAt: null,
      });
      await tx.markRefreshTokenRotated(row.hash, now);
      const idleExpiresAt = Math.min(now + this.#lifetimes.idleSeconds * 1000, session.absoluteExpiresAt);
      await tx.touchSession(session.id, now, idleExpiresAt);
      result = "rotated";
      return { session: { ...session, lastUsedAt: now, idleExpiresAt }, refreshToken: successor, user };
    }).catch((error: unknown) => {
      this.#metrics.refresh(isAuthError(error) && error.code === "unavailable" ? "unavailable" : "error");
      throw error;
    });
    this.#metrics.refresh(result);
    if (reused !== undefined) {
      const fields = { userId: reused.userId, sessionId: reused.id, ip: caller?.ip ?? null };
      this.#log.warn(fields, "refresh token reused: session ended");
    }
    if (outcome instanceof AuthError) throw outcome;
    return outcome;
  }

  /** Follows derived successors from a rotated token to the one that is still live. */
  async #liveHead(tx: TransactionOps, rotated: string): Promise<string | null> {
    let token = rotated;
    for (let step = 0; step < MAX_SUCCESSOR_WALK; step++) {
      token = deriveSuccessorToken(this.#rotationKey, token);
      const row = await tx.findRefreshToken(hashRefreshToken(token));
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

  async end(sessionId: string, reason: string): Promise<boolean> {
    return this.#store.endSession(sessionId, this.#clock.now(), reason);
  }

  async endAllForUser(userId: string, reason: string, exceptSessionId?: string): Promise<number> {
    return this.#store.endUserSessions(userId, this.#clock.now(), reason, exceptSessionId);
  }

  /** The session if it is live now, else null. */
  async findLive(sessionId: string): Promise<SessionRecord | null> {
    const session = await this.#store.findSession(sessionId);
    return session && isSessionLive(session, this.#clock.now()) ? session : null;
  }

  async listLive(userId: string): Promise<SessionRecord[]> {
    return this.#store.listLiveSessions(userId, this.#clock.now());
  }
}
