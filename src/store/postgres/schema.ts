import type { PoolClient } from "pg";

/** One schema step. Versions only ever grow; a released step is never edited. */
export interface PostgresMigration {
  version: number;
  description: string;
  sql: string;
}

/** Any constant shared by every Gatehouse instance: the advisory lock that serializes migrations. */
const MIGRATION_LOCK_KEY = 0x6761_7465; // "gate"

/** Name of the constraint that makes usernames unique; the store maps its violation to username_taken. */
export const USERNAME_UNIQUE_CONSTRAINT = "users_username_key_unique";

/** The PostgreSQL schema, oldest step first: the same tables and columns as the SQLite store. */
export const POSTGRES_MIGRATIONS: readonly PostgresMigration[] = [
  {
    version: 1,
    description: "users, sessions, refresh tokens, signing keys, settings",
    sql: `
      CREATE TABLE users (
        id            TEXT PRIMARY KEY,
        username      TEXT NOT NULL,
        username_key  TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        created_at    BIGINT NOT NULL,
        disabled_at   BIGINT,
        roles         TEXT NOT NULL DEFAULT '[]',
        CONSTRAINT ${USERNAME_UNIQUE_CONSTRAINT} UNIQUE (username_key)
      );

      CREATE TABLE sessions (
        id                  TEXT PRIMARY KEY,
        user_id             TEXT NOT NULL,
        created_at          BIGINT NOT NULL,
        last_used_at        BIGINT NOT NULL,
        absolute_expires_at BIGINT NOT NULL,
        idle_expires_at     BIGINT NOT NULL,
        ended_at            BIGINT,
        end_reason          TEXT,
        user_agent          TEXT,
        ip                  TEXT
      );
      CREATE INDEX sessions_user_id ON sessions(user_id);

      CREATE TABLE refresh_tokens (
        hash       TEXT PRIMARY KEY,
        session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        created_at BIGINT NOT NULL,
        rotated_at BIGINT
      );
      CREATE INDEX refresh_tokens_session_id ON refresh_tokens(session_id);

      CREATE TABLE signing_keys (
        kid          TEXT PRIMARY KEY,
        alg          TEXT NOT NULL,
        private_jwk  TEXT NOT NULL,
        public_jwk   TEXT NOT NULL,
        created_at   BIGINT NOT NULL,
        activates_at BIGINT NOT NULL,
        retired_at   BIGINT,
        expires_at   BIGINT
      );

      CREATE TABLE settings (
        name  TEXT PRIMARY KEY,
        value TEXT NOT NULL
      );
    `,
  },
];

/**
 * Applies the steps not yet recorded in `schema_migrations`, in one transaction on `client`.
 * A transaction-scoped advisory lock makes instances that start together take turns, so
 * each step runs once. Idempotent. Returns the versions it applied.
 */
export async function migratePostgres(
  client: PoolClient,
  migrations: readonly PostgresMigration[] = POSTGRES_MIGRATIONS,
): Promise<number[]> {
  await client.query("BEGIN");
  try {
    await client.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK_KEY]);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version     INTEGER PRIMARY KEY,
      description TEXT NOT NULL,
      applied_at  BIGINT NOT NULL
    )`);
    const done = new Set((await client.query<{ version: number }>("SELECT version FROM schema_migrations")).rows.map((r) => r.version));
    const applied: number[] = [];
    for (const step of [...migrations].sort((a, b) => a.version - b.version)) {
      if (done.has(step.version)) continue;
      await client.query(step.sql);
      // applied_at is bookkeeping for people reading the table, so the database's clock is fine.
      await client.query(
        "INSERT INTO schema_migrations (version, description, applied_at) VALUES ($1, $2, (extract(epoch FROM clock_timestamp()) * 1000)::bigint)",
        [step.version, step.description],
      );
      applied.push(step.version);
    }
    await client.query("COMMIT");
    return applied;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  }
}
