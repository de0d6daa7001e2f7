import type { AuditEventQuery, AuditEventRecord } from "../../core/store/audit-events.ts";
import type { SqlRunner } from "./driver.ts";
import { statement } from "./statement.ts";

interface AuditEventRow {
  id: string;
  at: number;
  type: string;
  user_id: string | null;
  session_id: string | null;
  ip: string | null;
  user_agent: string | null;
  /** A JSON object. */
  data: string;
}

type Nullable<T> = T | null;
const COLUMNS = "id, at, type, user_id, session_id, ip, user_agent, data";
/** Sorts after every UUID, so "before it" means "any event" and one statement serves the first page too. */
const AFTER_EVERY_ID = "~";

const INSERT = statement<
  [string, number, string, Nullable<string>, Nullable<string>, Nullable<string>, Nullable<string>, string]
>("insertAuditEvent", `INSERT INTO audit_events (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`);
// A user's own activity: the (user_id, id) index answers it in order.
const LIST_OF_USER = statement<[string, string, number], AuditEventRow>(
  "listUserAuditEvents",
  `SELECT ${COLUMNS} FROM audit_events WHERE user_id = ? AND id < ? ORDER BY id DESC LIMIT ?`,
);
// Operators' searches (the CLI), any filter optional: a NULL filter matches every row.
const SEARCH = statement<
  [Nullable<string>, Nullable<string>, Nullable<string>, Nullable<string>, number, string, number],
  AuditEventRow
>(
  "searchAuditEvents",
  `SELECT ${COLUMNS} FROM audit_events
   WHERE (CAST(? AS TEXT) IS NULL OR user_id = ?) AND (CAST(? AS TEXT) IS NULL OR type = ?)
     AND at >= ? AND id < ?
   ORDER BY id DESC LIMIT ?`,
);
const PRUNE = statement<[number]>("pruneAuditEvents", "DELETE FROM audit_events WHERE at < ?");

function toAuditEvent(row: AuditEventRow): AuditEventRecord {
  return {
    id: row.id,
    at: row.at,
    type: row.type,
    userId: row.user_id,
    sessionId: row.session_id,
    ip: row.ip,
    userAgent: row.user_agent,
    data: parseData(row.data),
  };
}

/** Stored as a JSON object; anything else reads as no details. */
function parseData(text: string): AuditEventRecord["data"] {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as AuditEventRecord["data"])
      : {};
  } catch {
    return {};
  }
}

export async function insert(db: SqlRunner, e: AuditEventRecord): Promise<void> {
  await db.run(INSERT, [e.id, e.at, e.type, e.userId, e.sessionId, e.ip, e.userAgent, JSON.stringify(e.data)]);
}

export async function list(db: SqlRunner, q: AuditEventQuery): Promise<AuditEventRecord[]> {
  const before = q.before ?? AFTER_EVERY_ID;
  const onlyUser = q.userId !== undefined && q.type === undefined && q.since === undefined;
  const rows = onlyUser
    ? await db.all(LIST_OF_USER, [q.userId!, before, q.limit])
    : await db.all(SEARCH, [
        q.userId ?? null,
        q.userId ?? null,
        q.type ?? null,
        q.type ?? null,
        q.since ?? 0,
        before,
        q.limit,
      ]);
  return rows.map(toAuditEvent);
}

export async function prune(db: SqlRunner, before: number): Promise<number> {
  return db.run(PRUNE, [before]);
}
