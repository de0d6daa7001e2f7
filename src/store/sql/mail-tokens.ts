import type { MailTokenPurpose, MailTokenRecord } from "../../core/store/mail-tokens.ts";
import type { SqlRunner } from "./driver.ts";
import { statement } from "./statement.ts";

interface MailTokenRow {
  hash: string;
  user_id: string;
  purpose: string;
  email: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

const COLUMNS = "hash, user_id, purpose, email, created_at, expires_at, used_at";

const INSERT = statement<[string, string, string, string, number, number, number | null]>(
  "insertMailToken",
  `INSERT INTO mail_tokens (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)`,
);
const FIND = statement<[string], MailTokenRow>("findMailToken", `SELECT ${COLUMNS} FROM mail_tokens WHERE hash = ?`);
const USE = statement<[number, string]>(
  "useMailToken",
  "UPDATE mail_tokens SET used_at = ? WHERE hash = ? AND used_at IS NULL",
);
const VOID = statement<[number, string, string]>(
  "voidMailTokens",
  "UPDATE mail_tokens SET used_at = ? WHERE user_id = ? AND purpose = ? AND used_at IS NULL",
);
const PRUNE = statement<[number]>("pruneMailTokens", "DELETE FROM mail_tokens WHERE expires_at < ?");

const toMailToken = (row: MailTokenRow): MailTokenRecord => ({
  hash: row.hash,
  userId: row.user_id,
  purpose: row.purpose as MailTokenPurpose,
  email: row.email,
  createdAt: row.created_at,
  expiresAt: row.expires_at,
  usedAt: row.used_at,
});

export async function insert(db: SqlRunner, token: MailTokenRecord): Promise<void> {
  const { hash, userId, purpose, email, createdAt, expiresAt, usedAt } = token;
  await db.run(INSERT, [hash, userId, purpose, email, createdAt, expiresAt, usedAt]);
}

export async function find(db: SqlRunner, hash: string): Promise<MailTokenRecord | null> {
  const row = await db.get(FIND, [hash]);
  return row ? toMailToken(row) : null;
}

export async function use(db: SqlRunner, hash: string, at: number): Promise<boolean> {
  return (await db.run(USE, [at, hash])) > 0;
}

export async function voidAll(db: SqlRunner, userId: string, purpose: MailTokenPurpose, at: number): Promise<number> {
  return db.run(VOID, [at, userId, purpose]);
}

export async function prune(db: SqlRunner, before: number): Promise<number> {
  return db.run(PRUNE, [before]);
}
