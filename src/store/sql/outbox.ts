import type { OutboxClaimRequest, OutboxFailure, OutboxRecord } from "../../core/store/outbox.ts";
import type { SqlRunner } from "./driver.ts";
import { statement } from "./statement.ts";

interface OutboxRow {
  id: string;
  kind: string;
  payload: string;
  created_at: number;
  attempts: number;
  next_attempt_at: number;
  locked_until: number | null;
  delivered_at: number | null;
  dead_at: number | null;
  last_error: string | null;
}

type Nullable<T> = T | null;
const COLUMNS =
  "id, kind, payload, created_at, attempts, next_attempt_at, locked_until, delivered_at, dead_at, last_error";
// Due: pending (neither delivered nor dead), its time has come, and nobody holds a live lease on it.
const DUE = `kind = ? AND delivered_at IS NULL AND dead_at IS NULL AND next_attempt_at <= ?
   AND (locked_until IS NULL OR locked_until <= ?)`;

const INSERT = statement<
  [
    string,
    string,
    string,
    number,
    number,
    number,
    Nullable<number>,
    Nullable<number>,
    Nullable<number>,
    Nullable<string>,
  ]
>("insertOutboxMessage", `INSERT INTO outbox (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
const FIND = statement<[string], OutboxRow>("findOutboxMessage", `SELECT ${COLUMNS} FROM outbox WHERE id = ?`);
const ANY_DUE = statement<[string, number, number], { id: string }>(
  "anyOutboxMessageDue",
  `SELECT id FROM outbox WHERE ${DUE} LIMIT 1`,
);
const SELECT_DUE = statement<[string, number, number, number], OutboxRow>(
  "selectDueOutboxMessages",
  `SELECT ${COLUMNS} FROM outbox WHERE ${DUE} ORDER BY next_attempt_at, id LIMIT ?`,
  { forUpdate: "skip locked" },
);
const LEASE = statement<[number, string]>(
  "leaseOutboxMessage",
  "UPDATE outbox SET locked_until = ?, attempts = attempts + 1 WHERE id = ?",
);
const DELIVERED = statement<[number, string]>(
  "markOutboxDelivered",
  `UPDATE outbox SET delivered_at = ?, locked_until = NULL, last_error = NULL
   WHERE id = ? AND delivered_at IS NULL`,
);
// `attempts = ?` names the claim: a worker whose lease ran out (and was claimed again) changes nothing.
const FAILED = statement<[number, string, Nullable<number>, string, number]>(
  "markOutboxFailed",
  `UPDATE outbox SET next_attempt_at = ?, locked_until = NULL, last_error = ?, dead_at = ?
   WHERE id = ? AND attempts = ? AND delivered_at IS NULL`,
);
const BACKLOG = statement<[], { backlog: number }>(
  "countOutboxBacklog",
  "SELECT COUNT(*) AS backlog FROM outbox WHERE delivered_at IS NULL AND dead_at IS NULL",
);
const PRUNE = statement<[number, number]>(
  "pruneOutbox",
  `DELETE FROM outbox
   WHERE (delivered_at IS NOT NULL AND delivered_at < ?) OR (dead_at IS NOT NULL AND dead_at < ?)`,
);

const toOutbox = (row: OutboxRow): OutboxRecord => ({
  id: row.id,
  kind: row.kind,
  payload: row.payload,
  createdAt: row.created_at,
  attempts: row.attempts,
  nextAttemptAt: row.next_attempt_at,
  lockedUntil: row.locked_until,
  deliveredAt: row.delivered_at,
  deadAt: row.dead_at,
  lastError: row.last_error,
});

export async function insert(db: SqlRunner, m: OutboxRecord): Promise<void> {
  await db.run(INSERT, [
    m.id,
    m.kind,
    m.payload,
    m.createdAt,
    m.attempts,
    m.nextAttemptAt,
    m.lockedUntil,
    m.deliveredAt,
    m.deadAt,
    m.lastError,
  ]);
}

export async function find(db: SqlRunner, id: string): Promise<OutboxRecord | null> {
  const row = await db.get(FIND, [id]);
  return row ? toOutbox(row) : null;
}

/** A cheap read outside any transaction: an idle worker's poll then costs no write lock. */
export async function anyDue(db: SqlRunner, request: OutboxClaimRequest): Promise<boolean> {
  return (await db.get(ANY_DUE, [request.kind, request.now, request.now])) !== undefined;
}

/** Inside a transaction: locks due rows (skipping rows another worker is claiming) and leases them. */
export async function claim(tx: SqlRunner, request: OutboxClaimRequest): Promise<OutboxRecord[]> {
  const { kind, now, leaseUntil, limit } = request;
  const rows = await tx.all(SELECT_DUE, [kind, now, now, limit]);
  const claimed: OutboxRecord[] = [];
  for (const row of rows) {
    await tx.run(LEASE, [leaseUntil, row.id]);
    claimed.push({ ...toOutbox(row), attempts: row.attempts + 1, lockedUntil: leaseUntil });
  }
  return claimed;
}

export async function markDelivered(db: SqlRunner, id: string, at: number): Promise<boolean> {
  return (await db.run(DELIVERED, [at, id])) > 0;
}

export async function markFailed(db: SqlRunner, id: string, failure: OutboxFailure): Promise<boolean> {
  const { nextAttemptAt, lastError, deadAt, attempts } = failure;
  return (await db.run(FAILED, [nextAttemptAt, lastError, deadAt, id, attempts])) > 0;
}

export async function countBacklog(db: SqlRunner): Promise<number> {
  return Number((await db.get(BACKLOG, []))?.backlog ?? 0);
}

export async function prune(db: SqlRunner, deliveredBefore: number, deadBefore: number): Promise<number> {
  return db.run(PRUNE, [deliveredBefore, deadBefore]);
}
