/**
 * Every SQL statement the PostgreSQL store runs. Each has a fixed name, so `pg` prepares it
 * once per connection and later calls only bind values.
 */
export interface NamedQuery {
  readonly name: string;
  readonly text: string;
}

const USER_COLUMNS = "id, username, password_hash, created_at, disabled_at, roles";
const SESSION_COLUMNS =
  "id, user_id, created_at, last_used_at, absolute_expires_at, idle_expires_at, ended_at, end_reason, user_agent, ip";
const REFRESH_COLUMNS = "hash, session_id, created_at, rotated_at";
const KEY_COLUMNS = "kid, alg, private_jwk, public_jwk, created_at, activates_at, retired_at, expires_at";

function named<T extends Record<string, string>>(texts: T): { [K in keyof T]: NamedQuery } {
  const entries = Object.entries(texts).map(([key, text]) => [key, { name: `gatehouse_${key}`, text }]);
  return Object.fromEntries(entries) as { [K in keyof T]: NamedQuery };
}

export const QUERIES = named({
  insertUser: `INSERT INTO users (id, username, username_key, password_hash, created_at, disabled_at, roles)
               VALUES ($1, $2, $3, $4, $5, $6, $7)`,
  findUserByKey: `SELECT ${USER_COLUMNS} FROM users WHERE username_key = $1`,
  findUserById: `SELECT ${USER_COLUMNS} FROM users WHERE id = $1`,
  listUsers: `SELECT ${USER_COLUMNS} FROM users ORDER BY created_at, username_key`,
  updatePasswordHash: "UPDATE users SET password_hash = $2 WHERE id = $1",
  setUserDisabled: "UPDATE users SET disabled_at = $2 WHERE id = $1",
  setUserRoles: "UPDATE users SET roles = $2 WHERE id = $1",

  insertSession: `INSERT INTO sessions (${SESSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
  findSession: `SELECT ${SESSION_COLUMNS} FROM sessions WHERE id = $1`,
  listLiveSessions: `SELECT ${SESSION_COLUMNS} FROM sessions
                     WHERE user_id = $1 AND ended_at IS NULL AND idle_expires_at > $2 AND absolute_expires_at > $2
                     ORDER BY created_at DESC, id DESC`,
  touchSession: "UPDATE sessions SET last_used_at = $2, idle_expires_at = $3 WHERE id = $1",
  endSession: "UPDATE sessions SET ended_at = $2, end_reason = $3 WHERE id = $1 AND ended_at IS NULL",
  // IS DISTINCT FROM is a null-safe "<>": with no exception (null) it matches every session.
  endUserSessions: `UPDATE sessions SET ended_at = $2, end_reason = $3
                    WHERE user_id = $1 AND ended_at IS NULL AND id IS DISTINCT FROM $4::text`,
  pruneSessions: `DELETE FROM sessions
                  WHERE (ended_at IS NOT NULL AND ended_at < $1) OR idle_expires_at < $1 OR absolute_expires_at < $1`,

  insertRefreshToken: `INSERT INTO refresh_tokens (${REFRESH_COLUMNS}) VALUES ($1, $2, $3, $4) ON CONFLICT (hash) DO NOTHING`,
  findRefreshToken: `SELECT ${REFRESH_COLUMNS} FROM refresh_tokens WHERE hash = $1`,
  lockRefreshToken: `SELECT ${REFRESH_COLUMNS} FROM refresh_tokens WHERE hash = $1 FOR UPDATE`,
  markRefreshTokenRotated: "UPDATE refresh_tokens SET rotated_at = $2 WHERE hash = $1 AND rotated_at IS NULL",

  listSigningKeys: `SELECT ${KEY_COLUMNS} FROM signing_keys ORDER BY created_at, kid`,
  insertSigningKey: `INSERT INTO signing_keys (${KEY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
  // Each column changes only when its flag is true, so one statement serves every partial update.
  updateSigningKey: `UPDATE signing_keys SET
                       retired_at = CASE WHEN $2::boolean THEN $3::bigint ELSE retired_at END,
                       expires_at = CASE WHEN $4::boolean THEN $5::bigint ELSE expires_at END
                     WHERE kid = $1`,

  getSetting: "SELECT value FROM settings WHERE name = $1",
  insertSettingIfAbsent: "INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",

  ping: "SELECT 1",
});
