import type { SessionRecord } from "./sessions.ts";
import type { TransactionOps } from "./store.ts";
import type { UserRecord } from "./users.ts";

/** The session a reuse ended, and whose. */
export interface ReusedSession {
  readonly sessionId: string;
  readonly userId: string;
}

/** One refresh: everything the store needs to decide and write it without asking again. */
export interface RefreshRotationRequest {
  /** Hash of the presented refresh token. */
  hash: string;
  /** Hash of its successor (derived from the token, so every instance computes the same one). */
  successorHash: string;
  now: number;
  /** Idle lifetime in ms: a rotation moves the idle end to min(now + idle, absolute end). */
  idleMs: number;
  /** A token rotated at most this long ago is a concurrent refresh, not a reuse. */
  graceMs: number;
  /**
   * Runs in the transaction that ends the session on a reuse, after it ended it (to record the
   * event and queue the user's notice): both commit together or not at all. If it throws, the
   * rotation rejects with its error and nothing is ended, so the next reuse is detected again.
   */
  onReused?: (tx: TransactionOps, reused: ReusedSession) => Promise<void>;
}

/**
 * What became of a refresh, decided in this order:
 * - `unknown`: no such token;
 * - `ended`: its session had ended (or is gone, or ended while this rotation ran);
 * - `expired`: its session passed its idle or absolute end; the session is now ended ("expired");
 * - `user_disabled`: its user is disabled or gone; the session is now ended ("user_disabled");
 * - `reused`: the token was rotated longer than the grace window ago; the session is now
 *   ended ("refresh_token_reuse"), so its newest token stops working too, and `onReused` ran
 *   in that same transaction. Of concurrent reuses of one token exactly one reports `reused`
 *   (the others find the session ended: `ended`);
 * - `grace`: rotated inside the grace window; nothing was written, the caller follows the
 *   chain to the live successor;
 * - `rotated`: the successor is stored, the token marked rotated, the session touched.
 */
export type RefreshRotationResult =
  | { readonly outcome: "unknown" | "ended" | "expired" | "user_disabled" }
  /** Which session the reuse ended, and whose (for the security log). */
  | ({ readonly outcome: "reused" } & ReusedSession)
  | { readonly outcome: "grace" | "rotated"; readonly session: SessionRecord; readonly user: UserRecord };

/**
 * A store that rotates a refresh token in one step of its own (PostgreSQL: one statement, so
 * one round trip, for every outcome but a reuse). It must keep every rule of
 * {@link RefreshRotationResult} atomically: all of a rotation's writes happen or none (a reuse's
 * ending together with what `onReused` writes), and of concurrent rotations of one token exactly
 * one writes the successor. A store without it gets the same rules through its transactions.
 */
export interface RefreshRotationCapability {
  rotateRefreshToken(request: RefreshRotationRequest): Promise<RefreshRotationResult>;
}
