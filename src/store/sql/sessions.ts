import type { EndedSession } from "../../core/store/change-feed.ts";
import type { SessionCursor, SessionRecord } from "../../core/store/sessions.ts";
import type { NotifyRows } from "./dialect.ts";
import type { SqlRunner } from "./driver.ts";
import { statement } from "./statement.ts";

/** A row of `sessions` as both databases return it (the refresh rotation reads the same columns). */
export interface SessionRow {
  id: string;
  user_id: string;
  created_at: number;
  last_used_at: number;
  absolute_expires_at: number;
  idle_expires_at: number;
  ended_at: number | null;
  end_reason: string | null;
  user_agent: string | null;
  ip: string | null;
  /** A JSON array of strings. */
  amr: string;
}

type Nullable<T> = T | null;
const COLUMNS =
  "id, user_id, created_at, last_used_at, absolute_expires_at, idle_expires_at, ended_at, end_reason, user_agent, ip, amr";

const INSERT = statement<
  [
    string,
    string,
    number,
    number,
    number,
    number,
    Nullable<number>,
    Nullable<string>,
    Nullable<string>,
    Nullable<string>,
    string,
  ]
>("insertSession", `INSERT INTO sessions (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
const FIND = statement<[string], SessionRow>("findSession", `SELECT ${COLUMNS} FROM sessions WHERE id = ?`);
const LIST_LIVE = statement<[string, number, number], SessionRow>(
  "listLiveSessions",
  `SELECT ${COLUMNS} FROM sessions
   WHERE user_id = ? AND ended_at IS NULL AND idle_expires_at > ? AND absolute_expires_at > ?
   ORDER BY created_at DESC, id DESC`,
);
// Keyset paging: (created_at, id) strictly after the cursor in newest-first order.
const LIST_LIVE_PAGE = statement<[string, number, number, number, number, string, number], SessionRow>(
  "listLiveSessionsPage",
  `SELECT ${COLUMNS} FROM sessions
   WHERE user_id = ? AND ended_at IS NULL AND idle_expires_at > ? AND absolute_expires_at > ?
     AND (created_at < ? OR (created_at = ? AND id < ?))
   ORDER BY created_at DESC, id DESC LIMIT ?`,
);
const LIST_LIVE_IDS_BEYOND = statement<[string, number, number, number, number], { id: string }>(
  "listLiveSessionIdsBeyond",
  `SELECT id FROM sessions
   WHERE user_id = ? AND ended_at IS NULL AND idle_expires_at > ? AND absolute_expires_at > ?
   ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?`,
);
// The user's row stands for all of their sessions: it exists whenever a session is started.
const LOCK_USER_SESSIONS = statement<[string], { id: string }>(
  "lockUserSessions",
  "SELECT id FROM users WHERE id = ?",
  { forUpdate: true },
);
const TOUCH = statement<[number, number, string]>(
  "touchSession",
  "UPDATE sessions SET last_used_at = ?, idle_expires_at = ? WHERE id = ?",
);

/** An ended session as the statements that end sessions return it (and announce it: "s <ended_at> <id>"). */
export interface EndedRow {
  id: string;
  ended_at: number;
}

/**
 * Every statement that ends sessions announces each one on the change feed, from inside the
 * statement: on PostgreSQL the notification leaves when the transaction commits, so no code
 * path can end a session without every instance hearing of it.
 */
export const SESSION_ENDED: NotifyRows = { returning: "id, ended_at", payload: "'s ' || ended_at || ' ' || id" };

const END = statement<[number, string, string], EndedRow>(
  "endSession",
  "UPDATE sessions SET ended_at = ?, end_reason = ? WHERE id = ? AND ended_at IS NULL",
  { notify: SESSION_ENDED },
);
// IS DISTINCT FROM is a null-safe "<>": with no exception (null) it matches every session.
const END_ALL_OF_USER = statement<[number, string, string, Nullable<string>], EndedRow>(
  "endUserSessions",
  `UPDATE sessions SET ended_at = ?, end_reason = ?
   WHERE user_id = ? AND ended_at IS NULL AND id IS DISTINCT FROM CAST(? AS TEXT)`,
  { notify: SESSION_ENDED },
);
// Keyset paging in (ended_at, id) order over the sessions_ended_at index: each page is bounded.
const LIST_ENDED = statement<[number, number, string, number], EndedRow>(
  "listEndedSessions",
  `SELECT id, ended_at FROM sessions
   WHERE ended_at IS NOT NULL AND (ended_at > ? OR (ended_at = ? AND id > ?))
   ORDER BY ended_at, id LIMIT ?`,
);
// Refresh tokens go with their session (ON DELETE CASCADE). One batch per statement.
const PRUNE = statement<[number, number, number, number]>(
  "pruneSessions",
  `DELETE FROM sessions WHERE id IN (
     SELECT id FROM sessions
     WHERE (ended_at IS NOT NULL AND ended_at < ?) OR idle_expires_at < ? OR absolute_expires_at < ?
     LIMIT ?)`,
);
/** Rows deleted per statement: each batch is a short transaction of its own, whatever the backlog. */
const PRUNE_BATCH = 1000;
/** "No cursor yet": a time after every session's creation. */
const NEWEST: SessionCursor = { createdAt: Number.MAX_SAFE_INTEGER, id: "" };

export function toSession(row: SessionRow): SessionRecord {
  return {
    id: row.id,
    userId: row.user_id,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    absoluteExpiresAt: row.absolute_expires_at,
    idleExpiresAt: row.idle_expires_at,
    endedAt: row.ended_at,
    endReason: row.end_reason,
    userAgent: row.user_agent,
    ip: row.ip,
    amr: parseAmr(row.amr),
  };
}

/** Stored as a JSON array of strings; anything else reads as a password login. */
function parseAmr(text: string): string[] {
  try {
    const value: unknown = JSON.parse(text);
    if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value;
  } catch {
    // fall through
  }
  return ["pwd"];
}

export async function insert(db: SqlRunner, s: SessionRecord): Promise<void> {
  await db.run(INSERT, [
    s.id,
    s.userId,
    s.createdAt,
    s.lastUsedAt,
    s.absoluteExpiresAt,
    s.idleExpiresAt,
    s.endedAt,
    s.endReason,
    s.userAgent,
    s.ip,
    JSON.stringify(s.amr),
  ]);
}

export async function find(db: SqlRunner, id: string): Promise<SessionRecord | null> {
  const row = await db.get(FIND, [id]);
  return row ? toSession(row) : null;
}

export async function listLive(db: SqlRunner, userId: string, now: number): Promise<SessionRecord[]> {
  return (await db.all(LIST_LIVE, [userId, now, now])).map(toSession);
}

export async function listLivePage(
  db: SqlRunner,
  userId: string,
  now: number,
  limit: number,
  after: SessionCursor | null,
): Promise<SessionRecord[]> {
  const { createdAt, id } = after ?? NEWEST;
  return (await db.all(LIST_LIVE_PAGE, [userId, now, now, createdAt, createdAt, id, limit])).map(toSession);
}

export async function listLiveIdsBeyond(db: SqlRunner, userId: string, now: number, keep: number): Promise<string[]> {
  const rows = await db.all(LIST_LIVE_IDS_BEYOND, [userId, now, now, Number.MAX_SAFE_INTEGER, keep]);
  return rows.map((row) => row.id);
}

export async function lockUser(db: SqlRunner, userId: string): Promise<void> {
  await db.get(LOCK_USER_SESSIONS, [userId]);
}

export async function touch(db: SqlRunner, id: string, lastUsedAt: number, idleExpiresAt: number): Promise<void> {
  await db.run(TOUCH, [lastUsedAt, idleExpiresAt, id]);
}

export const toEndedSession = (row: EndedRow): EndedSession => ({ id: row.id, endedAt: row.ended_at });

/** Ends a session if still open; returns it when this call ended it (for the change feed). */
export async function end(db: SqlRunner, id: string, at: number, reason: string): Promise<EndedSession[]> {
  return (await db.all(END, [at, reason, id])).map(toEndedSession);
}

export async function endAllOfUser(
  db: SqlRunner,
  userId: string,
  at: number,
  reason: string,
  exceptSessionId: string | undefined,
): Promise<EndedSession[]> {
  return (await db.all(END_ALL_OF_USER, [at, reason, userId, exceptSessionId ?? null])).map(toEndedSession);
}

export async function listEnded(db: SqlRunner, after: EndedSession, limit: number): Promise<EndedSession[]> {
  return (await db.all(LIST_ENDED, [after.endedAt, after.endedAt, after.id, limit])).map(toEndedSession);
}

export async function prune(db: SqlRunner, before: number): Promise<number> {
  let removed = 0;
  for (;;) {
    const batch = await db.run(PRUNE, [before, before, before, PRUNE_BATCH]);
    removed += batch;
    if (batch < PRUNE_BATCH) return removed;
  }
}
