import type { Database, Statement } from "better-sqlite3";
import type { RefreshTokenRow, SessionRow, SigningKeyRow, UserRow } from "../rows.ts";

type Nullable<T> = T | null;

const USER_COLUMNS = "id, username, password_hash, created_at, disabled_at, roles";
const SESSION_COLUMNS =
  "id, user_id, created_at, last_used_at, absolute_expires_at, idle_expires_at, ended_at, end_reason, user_agent, ip";
const REFRESH_COLUMNS = "hash, session_id, created_at, rotated_at";
const KEY_COLUMNS = "kid, alg, private_jwk, public_jwk, created_at, activates_at, retired_at, expires_at";

/** Every statement the store runs, prepared once per connection (after the schema exists). */
export interface Statements {
  insertUser: Statement<[string, string, string, string, number, Nullable<number>, string]>;
  findUserByKey: Statement<[string], UserRow>;
  findUserById: Statement<[string], UserRow>;
  listUsers: Statement<[], UserRow>;
  updatePasswordHash: Statement<[string, string]>;
  setUserDisabled: Statement<[Nullable<number>, string]>;
  setUserRoles: Statement<[string, string]>;
  insertSession: Statement<[string, string, number, number, number, number, Nullable<number>, Nullable<string>, Nullable<string>, Nullable<string>]>;
  findSession: Statement<[string], SessionRow>;
  listLiveSessions: Statement<[string, number, number], SessionRow>;
  touchSession: Statement<[number, number, string]>;
  endSession: Statement<[number, string, string]>;
  endUserSessions: Statement<[number, string, string, Nullable<string>]>;
  pruneSessions: Statement<[number, number, number]>;
  insertRefreshToken: Statement<[string, string, number, Nullable<number>]>;
  findRefreshToken: Statement<[string], RefreshTokenRow>;
  markRefreshTokenRotated: Statement<[number, string]>;
  listSigningKeys: Statement<[], SigningKeyRow>;
  insertSigningKey: Statement<[string, string, string, string, number, number, Nullable<number>, Nullable<number>]>;
  updateSigningKey: Statement<[number, Nullable<number>, number, Nullable<number>, string]>;
  getSetting: Statement<[string], { value: string }>;
  insertSettingIfAbsent: Statement<[string, string]>;
}

/** Prepares {@link Statements}; fails with "no such table" until the schema is migrated. */
export function prepareStatements(db: Database): Statements {
  return {
    insertUser: db.prepare<[string, string, string, string, number, Nullable<number>, string]>(
      "INSERT INTO users (id, username, username_key, password_hash, created_at, disabled_at, roles) VALUES (?, ?, ?, ?, ?, ?, ?)",
    ),
    findUserByKey: db.prepare<[string], UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE username_key = ?`),
    findUserById: db.prepare<[string], UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE id = ?`),
    listUsers: db.prepare<[], UserRow>(`SELECT ${USER_COLUMNS} FROM users ORDER BY created_at, username_key`),
    updatePasswordHash: db.prepare<[string, string]>("UPDATE users SET password_hash = ? WHERE id = ?"),
    setUserDisabled: db.prepare<[Nullable<number>, string]>("UPDATE users SET disabled_at = ? WHERE id = ?"),
    setUserRoles: db.prepare<[string, string]>("UPDATE users SET roles = ? WHERE id = ?"),

    insertSession: db.prepare<
      [string, string, number, number, number, number, Nullable<number>, Nullable<string>, Nullable<string>, Nullable<string>]
    >(`INSERT INTO sessions (${SESSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    findSession: db.prepare<[string], SessionRow>(`SELECT ${SESSION_COLUMNS} FROM sessions WHERE id = ?`),
    listLiveSessions: db.prepare<[string, number, number], SessionRow>(
      `SELECT ${SESSION_COLUMNS} FROM sessions
       WHERE user_id = ? AND ended_at IS NULL AND idle_expires_at > ? AND absolute_expires_at > ?
       ORDER BY created_at DESC, id DESC`,
    ),
    touchSession: db.prepare<[number, number, string]>("UPDATE sessions SET last_used_at = ?, idle_expires_at = ? WHERE id = ?"),
    endSession: db.prepare<[number, string, string]>(
      "UPDATE sessions SET ended_at = ?, end_reason = ? WHERE id = ? AND ended_at IS NULL",
    ),
    // `id IS NOT ?` is a null-safe "<>": with no exception (null) it matches every session.
    endUserSessions: db.prepare<[number, string, string, Nullable<string>]>(
      "UPDATE sessions SET ended_at = ?, end_reason = ? WHERE user_id = ? AND ended_at IS NULL AND id IS NOT ?",
    ),
    pruneSessions: db.prepare<[number, number, number]>(
      `DELETE FROM sessions
       WHERE (ended_at IS NOT NULL AND ended_at < ?) OR idle_expires_at < ? OR absolute_expires_at < ?`,
    ),

    insertRefreshToken: db.prepare<[string, string, number, Nullable<number>]>(
      `INSERT OR IGNORE INTO refresh_tokens (${REFRESH_COLUMNS}) VALUES (?, ?, ?, ?)`,
    ),
    findRefreshToken: db.prepare<[string], RefreshTokenRow>(`SELECT ${REFRESH_COLUMNS} FROM refresh_tokens WHERE hash = ?`),
    markRefreshTokenRotated: db.prepare<[number, string]>(
      "UPDATE refresh_tokens SET rotated_at = ? WHERE hash = ? AND rotated_at IS NULL",
    ),

    listSigningKeys: db.prepare<[], SigningKeyRow>(`SELECT ${KEY_COLUMNS} FROM signing_keys ORDER BY created_at, kid`),
    insertSigningKey: db.prepare<[string, string, string, string, number, number, Nullable<number>, Nullable<number>]>(
      `INSERT INTO signing_keys (${KEY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    // Each column changes only when its flag is 1, so one statement serves every partial update.
    updateSigningKey: db.prepare<[number, Nullable<number>, number, Nullable<number>, string]>(
      `UPDATE signing_keys SET
         retired_at = CASE WHEN ? THEN ? ELSE retired_at END,
         expires_at = CASE WHEN ? THEN ? ELSE expires_at END
       WHERE kid = ?`,
    ),

    getSetting: db.prepare<[string], { value: string }>("SELECT value FROM settings WHERE name = ?"),
    insertSettingIfAbsent: db.prepare<[string, string]>("INSERT OR IGNORE INTO settings (name, value) VALUES (?, ?)"),
  };
}
