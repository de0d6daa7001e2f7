import type { RefreshTokenRecord } from "../../core/store/refresh-tokens.ts";
import type { SqlRunner } from "./driver.ts";
import { statement } from "./statement.ts";

interface RefreshTokenRow {
  hash: string;
  session_id: string;
  created_at: number;
  rotated_at: number | null;
}

const COLUMNS = "hash, session_id, created_at, rotated_at";

const INSERT = statement<[string, string, number, number | null]>(
  "insertRefreshToken",
  `INSERT INTO refresh_tokens (${COLUMNS}) VALUES (?, ?, ?, ?) ON CONFLICT (hash) DO NOTHING`,
);
const FIND = statement<[string], RefreshTokenRow>(
  "findRefreshToken",
  `SELECT ${COLUMNS} FROM refresh_tokens WHERE hash = ?`,
);
const LOCK = statement<[string], RefreshTokenRow>(
  "lockRefreshToken",
  `SELECT ${COLUMNS} FROM refresh_tokens WHERE hash = ?`,
  { forUpdate: true },
);
const MARK_ROTATED = statement<[number, string]>(
  "markRefreshTokenRotated",
  "UPDATE refresh_tokens SET rotated_at = ? WHERE hash = ? AND rotated_at IS NULL",
);

const toRefreshToken = (row: RefreshTokenRow): RefreshTokenRecord => ({
  hash: row.hash,
  sessionId: row.session_id,
  createdAt: row.created_at,
  rotatedAt: row.rotated_at,
});

export async function insert(db: SqlRunner, token: RefreshTokenRecord): Promise<boolean> {
  return (await db.run(INSERT, [token.hash, token.sessionId, token.createdAt, token.rotatedAt])) > 0;
}

export async function find(db: SqlRunner, hash: string): Promise<RefreshTokenRecord | null> {
  const row = await db.get(FIND, [hash]);
  return row ? toRefreshToken(row) : null;
}

/** Inside a transaction: reads the row and keeps it locked until the transaction ends. */
export async function lock(tx: SqlRunner, hash: string): Promise<RefreshTokenRecord | null> {
  const row = await tx.get(LOCK, [hash]);
  return row ? toRefreshToken(row) : null;
}

export async function markRotated(db: SqlRunner, hash: string, at: number): Promise<boolean> {
  return (await db.run(MARK_ROTATED, [at, hash])) > 0;
}
