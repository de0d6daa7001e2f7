import type { PasskeyRecord, WebAuthnChallengeRecord } from "../../core/store/passkeys.ts";
import type { SqlRunner } from "./driver.ts";
import { statement } from "./statement.ts";

interface PasskeyRow {
  id: string;
  user_id: string;
  public_key: string;
  counter: number;
  /** A JSON array of strings. */
  transports: string;
  device_type: string;
  backed_up: number;
  name: string;
  created_at: number;
  last_used_at: number | null;
}

interface ChallengeRow {
  hash: string;
  purpose: string;
  user_id: string | null;
  created_at: number;
  expires_at: number;
}

const COLUMNS = "id, user_id, public_key, counter, transports, device_type, backed_up, name, created_at, last_used_at";

const INSERT = statement<[string, string, string, number, string, string, number, string, number, number | null]>(
  "insertPasskey",
  `INSERT INTO passkeys (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
);
const LIST = statement<[string], PasskeyRow>(
  "listPasskeys",
  `SELECT ${COLUMNS} FROM passkeys WHERE user_id = ? ORDER BY created_at, id`,
);
const FIND = statement<[string], PasskeyRow>("findPasskey", `SELECT ${COLUMNS} FROM passkeys WHERE id = ?`);
const RECORD_USE = statement<[number, number, number, string]>(
  "recordPasskeyUse",
  "UPDATE passkeys SET counter = ?, backed_up = ?, last_used_at = ? WHERE id = ?",
);
const RENAME = statement<[string, string, string]>(
  "renamePasskey",
  "UPDATE passkeys SET name = ? WHERE user_id = ? AND id = ?",
);
const DELETE_ONE = statement<[string, string]>("deletePasskey", "DELETE FROM passkeys WHERE user_id = ? AND id = ?");
const DELETE_ALL = statement<[string]>("deletePasskeys", "DELETE FROM passkeys WHERE user_id = ?");

const INSERT_CHALLENGE = statement<[string, string, string | null, number, number]>(
  "insertWebAuthnChallenge",
  `INSERT INTO webauthn_challenges (hash, purpose, user_id, created_at, expires_at, used_at)
   VALUES (?, ?, ?, ?, ?, NULL)`,
);
// Marking it used in the statement that checks it is unused makes a challenge single-use under races.
const USE_CHALLENGE = statement<[number, string, number]>(
  "useWebAuthnChallenge",
  "UPDATE webauthn_challenges SET used_at = ? WHERE hash = ? AND used_at IS NULL AND expires_at > ?",
);
const FIND_CHALLENGE = statement<[string], ChallengeRow>(
  "findWebAuthnChallenge",
  "SELECT hash, purpose, user_id, created_at, expires_at FROM webauthn_challenges WHERE hash = ?",
);
const PRUNE_CHALLENGES = statement<[number]>(
  "pruneWebAuthnChallenges",
  "DELETE FROM webauthn_challenges WHERE expires_at < ?",
);

function parseTransports(text: string): string[] {
  try {
    const value: unknown = JSON.parse(text);
    if (Array.isArray(value)) return value.filter((v): v is string => typeof v === "string");
  } catch {
    // fall through
  }
  return [];
}

const toPasskey = (row: PasskeyRow): PasskeyRecord => ({
  id: row.id,
  userId: row.user_id,
  publicKey: row.public_key,
  counter: Number(row.counter),
  transports: parseTransports(row.transports),
  deviceType: row.device_type,
  backedUp: Number(row.backed_up) === 1,
  name: row.name,
  createdAt: Number(row.created_at),
  lastUsedAt: row.last_used_at === null ? null : Number(row.last_used_at),
});

export async function insert(db: SqlRunner, p: PasskeyRecord): Promise<boolean> {
  const args = [
    p.id,
    p.userId,
    p.publicKey,
    p.counter,
    JSON.stringify(p.transports),
    p.deviceType,
    p.backedUp ? 1 : 0,
    p.name,
    p.createdAt,
    p.lastUsedAt,
  ] as const;
  return (await db.run(INSERT, [...args])) > 0;
}

export async function list(db: SqlRunner, userId: string): Promise<PasskeyRecord[]> {
  return (await db.all(LIST, [userId])).map(toPasskey);
}

export async function find(db: SqlRunner, id: string): Promise<PasskeyRecord | null> {
  const row = await db.get(FIND, [id]);
  return row ? toPasskey(row) : null;
}

export async function recordUse(db: SqlRunner, id: string, counter: number, backedUp: boolean, at: number) {
  await db.run(RECORD_USE, [counter, backedUp ? 1 : 0, at, id]);
}

export async function rename(db: SqlRunner, userId: string, id: string, name: string): Promise<boolean> {
  return (await db.run(RENAME, [name, userId, id])) > 0;
}

export async function remove(db: SqlRunner, userId: string, id: string): Promise<boolean> {
  return (await db.run(DELETE_ONE, [userId, id])) > 0;
}

export async function removeAll(db: SqlRunner, userId: string): Promise<number> {
  return db.run(DELETE_ALL, [userId]);
}

export async function insertChallenge(db: SqlRunner, c: WebAuthnChallengeRecord): Promise<void> {
  await db.run(INSERT_CHALLENGE, [c.hash, c.purpose, c.userId, c.createdAt, c.expiresAt]);
}

export async function consumeChallenge(
  db: SqlRunner,
  hash: string,
  now: number,
): Promise<WebAuthnChallengeRecord | null> {
  if ((await db.run(USE_CHALLENGE, [now, hash, now])) === 0) return null;
  const row = await db.get(FIND_CHALLENGE, [hash]);
  return row
    ? {
        hash: row.hash,
        purpose: row.purpose,
        userId: row.user_id,
        createdAt: Number(row.created_at),
        expiresAt: Number(row.expires_at),
      }
    : null;
}

export async function pruneChallenges(db: SqlRunner, before: number): Promise<number> {
  return db.run(PRUNE_CHALLENGES, [before]);
}
