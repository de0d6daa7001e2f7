import type { Database } from "better-sqlite3";
import type pg from "pg";

/*
 * The schema exactly as the stores before the shared SQL store created it (one SQLite and
 * one PostgreSQL copy, with the constraint name inlined), and its migration bookkeeping.
 * Databases made by that code must keep working: tests build one from this and open it with
 * today's store. Never edit these strings; they stand for databases already in use.
 */

export const SQLITE_SCHEMA_V1 = `
      CREATE TABLE users (
        id            TEXT PRIMARY KEY,
        username      TEXT NOT NULL,
        username_key  TEXT NOT NULL UNIQUE,
        password_hash TEXT NOT NULL,
        created_at    INTEGER NOT NULL,
        disabled_at   INTEGER,
        roles         TEXT NOT NULL DEFAULT '[]'
      );

      CREATE TABLE sessions (
        id                  TEXT PRIMARY KEY,
        user_id             TEXT NOT NULL,
        created_at          INTEGER NOT NULL,
        last_used_at        INTEGER NOT NULL,
        absolute_expires_at INTEGER NOT NULL,
        idle_expires_at     INTEGER NOT NULL,
        ended_at            INTEGER,
        end_reason          TEXT,
        user_agent          TEXT,
        ip                  TEXT
      );
      CREATE INDEX sessions_user_id ON sessions(user_id);

      CREATE TABLE refresh_tokens (
        hash       TEXT PRIMARY KEY,
        session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        created_at INTEGER NOT NULL,
        rotated_at INTEGER
      );
      CREATE INDEX refresh_tokens_session_id ON refresh_tokens(session_id);

      CREATE TABLE signing_keys (
        kid          TEXT PRIMARY KEY,
        alg          TEXT NOT NULL,
        private_jwk  TEXT NOT NULL,
        public_jwk   TEXT NOT NULL,
        created_at   INTEGER NOT NULL,
        activates_at INTEGER NOT NULL,
        retired_at   INTEGER,
        expires_at   INTEGER
      );

      CREATE TABLE settings (
        name  TEXT PRIMARY KEY,
        value TEXT NOT NULL
      );
`;

export const POSTGRES_SCHEMA_V1 = `
      CREATE TABLE users (
        id            TEXT PRIMARY KEY,
        username      TEXT NOT NULL,
        username_key  TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        created_at    BIGINT NOT NULL,
        disabled_at   BIGINT,
        roles         TEXT NOT NULL DEFAULT '[]',
        CONSTRAINT users_username_key_unique UNIQUE (username_key)
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
`;

const DESCRIPTION = "users, sessions, refresh tokens, signing keys, settings";

/** Creates the version-1 schema in an empty SQLite database, as the old migration runner did. */
export function createSqliteSchemaV1(db: Database): void {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version     INTEGER PRIMARY KEY,
      description TEXT NOT NULL,
      applied_at  INTEGER NOT NULL
    )`);
  db.exec(SQLITE_SCHEMA_V1);
  db.prepare(
    `INSERT INTO schema_migrations (version, description, applied_at)
     VALUES (?, ?, CAST(unixepoch('subsec') * 1000 AS INTEGER))`,
  ).run(1, DESCRIPTION);
}

/** Creates the version-1 schema in the (empty) current schema of `client`, as the old runner did. */
export async function createPostgresSchemaV1(client: pg.Client): Promise<void> {
  await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version     INTEGER PRIMARY KEY,
      description TEXT NOT NULL,
      applied_at  BIGINT NOT NULL
    )`);
  await client.query(POSTGRES_SCHEMA_V1);
  await client.query(
    `INSERT INTO schema_migrations (version, description, applied_at)
     VALUES ($1, $2, (extract(epoch FROM clock_timestamp()) * 1000)::bigint)`,
    [1, DESCRIPTION],
  );
}
