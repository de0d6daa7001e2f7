import type { Database } from "better-sqlite3";

/** One schema step. Versions only ever grow; a released step is never edited. */
export interface Migration {
  version: number;
  description: string;
  sql: string;
}

/** The SQLite schema, oldest step first. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: "users, sessions, refresh tokens, signing keys, settings",
    sql: `
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
    `,
  },
];

/**
 * Applies every step not yet recorded in `schema_migrations`, all in one IMMEDIATE
 * transaction so two processes opening the same file cannot both apply a step.
 * Idempotent: a second call finds nothing to do. Returns the versions it applied.
 */
export function migrate(db: Database, migrations: readonly Migration[] = MIGRATIONS): number[] {
  const apply = db.transaction((): number[] => {
    db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version     INTEGER PRIMARY KEY,
      description TEXT NOT NULL,
      applied_at  INTEGER NOT NULL
    )`);
    const done = new Set(
      (db.prepare("SELECT version FROM schema_migrations").all() as { version: number }[]).map((row) => row.version),
    );
    // applied_at is bookkeeping for people reading the table, so the database's clock is fine.
    const record = db.prepare(
      "INSERT INTO schema_migrations (version, description, applied_at) VALUES (?, ?, CAST(unixepoch('subsec') * 1000 AS INTEGER))",
    );
    const applied: number[] = [];
    for (const step of [...migrations].sort((a, b) => a.version - b.version)) {
      if (done.has(step.version)) continue;
      db.exec(step.sql);
      record.run(step.version, step.description);
      applied.push(step.version);
    }
    return applied;
  });
  return apply.immediate();
}
