import type { SessionRecord } from "./sessions.ts";
import type { UserRecord } from "./users.ts";

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
}

/**
 * What became of a refresh, decided in this order:
 * - `unknown`: no such token;
 * - `ended`: its session had ended (or is gone, or ended while this rotation ran);
 * - `expired`: its session passed its idle or absolute end; the session is now ended ("expired");
 * - `user_disabled`: its user is disabled or gone; the session is now ended ("user_disabled");
 * - `reused`: the token was rotated longer than the grace window ago; the session is now
 *   ended ("refresh_token_reuse"), so its newest token stops working too;
 * - `grace`: rotated inside the grace window; nothing was written, the caller follows the
 *   chain to the live successor;
 * - `rotated`: the successor is stored, the token marked rotated, the session touched.
 */
export type RefreshRotationResult =
  | { readonly outcome: "unknown" | "ended" | "expired" | "user_disabled" }
  /** Which session the reuse ended, and whose (for the security log). */
  | { readonly outcome: "reused"; readonly sessionId: string; readonly userId: string }
  | { readonly outcome: "grace" | "rotated"; readonly session: SessionRecord; readonly user: UserRecord };

/**
 * A store that rotates a refresh token in one step of its own (PostgreSQL: one statement, so
 * one round trip). It must keep every rule of {@link RefreshRotationResult} atomically: all of
 * a rotation's writes happen or none, and of concurrent rotations of one token exactly one
 * writes the successor. A store without it gets the same rules through its transactions.
 */
export interface RefreshRotationCapability {
  rotateRefreshToken(request: RefreshRotationRequest): Promise<RefreshRotationResult>;
}
