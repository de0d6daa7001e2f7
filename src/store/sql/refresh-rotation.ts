import type { EndedSession } from "../../core/store/change-feed.ts";
import type { RefreshRotationRequest, RefreshRotationResult } from "../../core/store/refresh-rotation.ts";
import { CHANGE_CHANNEL_SQL } from "./dialect.ts";
import type { SqlRunner } from "./driver.ts";
import { type SessionRow, toSession } from "./sessions.ts";
import { statement } from "./statement.ts";
import { toUser } from "./users.ts";

type Outcome = RefreshRotationResult["outcome"];

/** The session's columns (its id as `session_id`), its user's, and what the statement decided. */
interface RotationRow extends Omit<SessionRow, "id"> {
  outcome: Outcome;
  session_id: string;
  username: string;
  password_hash: string;
  user_created_at: number;
  disabled_at: number | null;
  roles: string;
  email: string | null;
  email_verified_at: number | null;
  /** Set when this statement ended the session (expired, user disabled). */
  ended_id: string | null;
}

/*
 * A whole refresh rotation as one PostgreSQL statement, so it costs one round trip. It keeps
 * the rules of rotateInTransaction (src/core/sessions/rotate-in-transaction.ts), step by step:
 *
 * - `token` locks the presented token's row (FOR UPDATE): concurrent rotations of one token
 *   take turns, and the one that waited reads the row as the winner left it (rotated_at set),
 *   so it takes the grace or reuse path, never a second successor;
 * - `found` decides the outcome in the same order as the transaction does;
 * - `touched` moves the idle end only while the session is still open (`ended_at IS NULL` is
 *   re-checked against a concurrent logout that committed meanwhile); the successor and the
 *   rotated mark are written only if it did, so a rotation is whole or absent;
 * - `ended` ends the session on expiry or a disabled user, and `announced` sends the
 *   change-feed notification, delivered when the statement commits;
 * - a reuse is only reported: its session is ended by the store in a transaction of its own,
 *   together with the event and notice that must commit with it (see SqlStore). Reuses are
 *   rare, so the common outcomes keep their single round trip.
 *
 * Data-modifying CTEs always run to completion, whether or not the final SELECT reads them.
 */
const ROTATE = statement<[string, string, number, number, number], RotationRow>(
  "rotateRefreshToken",
  `WITH params AS (
     SELECT CAST(? AS TEXT) AS hash, CAST(? AS TEXT) AS successor,
            CAST(? AS BIGINT) AS now, CAST(? AS BIGINT) AS idle, CAST(? AS BIGINT) AS grace
   ),
   token AS (
     SELECT hash, session_id, rotated_at FROM refresh_tokens WHERE hash = (SELECT hash FROM params) FOR UPDATE
   ),
   found AS (
     SELECT t.hash, t.session_id, s.user_id, s.created_at, s.last_used_at, s.absolute_expires_at,
            s.idle_expires_at, s.ended_at, s.end_reason, s.user_agent, s.ip, s.amr,
            u.username, u.password_hash, u.created_at AS user_created_at, u.disabled_at, u.roles,
            u.email, u.email_verified_at,
            CASE
              WHEN s.id IS NULL OR s.ended_at IS NOT NULL THEN 'ended'
              WHEN s.idle_expires_at <= p.now OR s.absolute_expires_at <= p.now THEN 'expired'
              WHEN u.id IS NULL OR u.disabled_at IS NOT NULL THEN 'user_disabled'
              WHEN t.rotated_at IS NOT NULL AND p.now - t.rotated_at > p.grace THEN 'reused'
              WHEN t.rotated_at IS NOT NULL THEN 'grace'
              ELSE 'rotated'
            END AS outcome
     FROM token t CROSS JOIN params p
     LEFT JOIN sessions s ON s.id = t.session_id
     LEFT JOIN users u ON u.id = s.user_id
   ),
   touched AS (
     UPDATE sessions
     SET last_used_at = (SELECT now FROM params),
         idle_expires_at = LEAST((SELECT now + idle FROM params), absolute_expires_at)
     WHERE id = (SELECT session_id FROM found WHERE outcome = 'rotated') AND ended_at IS NULL
     RETURNING last_used_at, idle_expires_at
   ),
   successor AS (
     INSERT INTO refresh_tokens (hash, session_id, created_at, rotated_at)
     SELECT p.successor, f.session_id, p.now, CAST(NULL AS BIGINT) FROM found f CROSS JOIN params p
     WHERE EXISTS (SELECT 1 FROM touched)
     ON CONFLICT (hash) DO NOTHING
   ),
   marked AS (
     UPDATE refresh_tokens SET rotated_at = (SELECT now FROM params)
     WHERE hash = (SELECT hash FROM found) AND EXISTS (SELECT 1 FROM touched)
   ),
   ended AS (
     UPDATE sessions
     SET ended_at = (SELECT now FROM params),
         end_reason = (SELECT outcome FROM found)
     WHERE id = (SELECT session_id FROM found WHERE outcome IN ('expired', 'user_disabled'))
       AND ended_at IS NULL
     RETURNING id, ended_at
   ),
   announced AS (
     SELECT id, pg_notify(${CHANGE_CHANNEL_SQL}, 's ' || ended_at || ' ' || id) AS notified FROM ended
   )
   SELECT CASE WHEN f.outcome = 'rotated' AND NOT EXISTS (SELECT 1 FROM touched) THEN 'ended' ELSE f.outcome END
            AS outcome,
          f.session_id, f.user_id, f.created_at,
          COALESCE((SELECT last_used_at FROM touched), f.last_used_at) AS last_used_at,
          f.absolute_expires_at,
          COALESCE((SELECT idle_expires_at FROM touched), f.idle_expires_at) AS idle_expires_at,
          f.ended_at, f.end_reason, f.user_agent, f.ip, f.amr,
          f.username, f.password_hash, f.user_created_at, f.disabled_at, f.roles, f.email, f.email_verified_at,
          (SELECT id FROM announced) AS ended_id
   FROM found f`,
  { onlyFor: "postgres" },
);

/**
 * Rotates in one statement (PostgreSQL). Also returns the session this statement ended, if
 * any, so the store can tell its own listeners at once (other instances hear the NOTIFY).
 */
export async function rotateInOneStatement(
  db: SqlRunner,
  request: RefreshRotationRequest,
): Promise<{ result: RefreshRotationResult; ended: EndedSession | null }> {
  const { hash, successorHash, now, idleMs, graceMs } = request;
  const row = await db.get(ROTATE, [hash, successorHash, now, idleMs, graceMs]);
  if (row === undefined) return { result: { outcome: "unknown" }, ended: null };
  const ended = row.ended_id === null ? null : { id: row.ended_id, endedAt: now };
  if (row.outcome === "reused") {
    return { result: { outcome: "reused", sessionId: row.session_id, userId: row.user_id }, ended };
  }
  if (row.outcome !== "rotated" && row.outcome !== "grace") return { result: { outcome: row.outcome }, ended };
  return {
    result: {
      outcome: row.outcome,
      session: toSession({ ...row, id: row.session_id }),
      user: toUser({
        id: row.user_id,
        username: row.username,
        password_hash: row.password_hash,
        created_at: row.user_created_at,
        disabled_at: row.disabled_at,
        roles: row.roles,
        email: row.email,
        email_verified_at: row.email_verified_at,
      }),
    },
    ended,
  };
}
