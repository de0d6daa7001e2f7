import type { Dialect } from "./dialect.ts";
import { EMAIL_UNIQUE, USERNAME_UNIQUE } from "./users.ts";

/**
 * One schema step, written once for both databases. Versions only ever grow and a released
 * step is never changed: a new table or column is a new step at the end of the list.
 */
export interface Migration {
  version: number;
  description: string;
  /** The DDL for this dialect (only column type names may differ). */
  ddl(dialect: Dialect): string;
}

/** The schema, oldest step first. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: "users, sessions, refresh tokens, signing keys, settings",
    ddl: ({ millisType: millis }) => `
      CREATE TABLE users (
        id            TEXT PRIMARY KEY,
        username      TEXT NOT NULL,
        username_key  TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        created_at    ${millis} NOT NULL,
        disabled_at   ${millis},
        roles         TEXT NOT NULL DEFAULT '[]',
        CONSTRAINT ${USERNAME_UNIQUE.constraint} UNIQUE (username_key)
      );

      CREATE TABLE sessions (
        id                  TEXT PRIMARY KEY,
        user_id             TEXT NOT NULL,
        created_at          ${millis} NOT NULL,
        last_used_at        ${millis} NOT NULL,
        absolute_expires_at ${millis} NOT NULL,
        idle_expires_at     ${millis} NOT NULL,
        ended_at            ${millis},
        end_reason          TEXT,
        user_agent          TEXT,
        ip                  TEXT
      );
      CREATE INDEX sessions_user_id ON sessions(user_id);

      CREATE TABLE refresh_tokens (
        hash       TEXT PRIMARY KEY,
        session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        created_at ${millis} NOT NULL,
        rotated_at ${millis}
      );
      CREATE INDEX refresh_tokens_session_id ON refresh_tokens(session_id);

      CREATE TABLE signing_keys (
        kid          TEXT PRIMARY KEY,
        alg          TEXT NOT NULL,
        private_jwk  TEXT NOT NULL,
        public_jwk   TEXT NOT NULL,
        created_at   ${millis} NOT NULL,
        activates_at ${millis} NOT NULL,
        retired_at   ${millis},
        expires_at   ${millis}
      );

      CREATE TABLE settings (
        name  TEXT PRIMARY KEY,
        value TEXT NOT NULL
      );
    `,
  },
  {
    version: 2,
    description: "index on sessions.ended_at, for the change feed's catch-up",
    ddl: () => "CREATE INDEX sessions_ended_at ON sessions(ended_at) WHERE ended_at IS NOT NULL;",
  },
  {
    version: 3,
    description: "outbox: messages (webhook calls, mails) delivered by a worker after commit",
    ddl: ({ millisType: millis }) => `
      CREATE TABLE outbox (
        id              TEXT PRIMARY KEY,
        kind            TEXT NOT NULL,
        payload         TEXT NOT NULL,
        created_at      ${millis} NOT NULL,
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_at ${millis} NOT NULL,
        locked_until    ${millis},
        delivered_at    ${millis},
        dead_at         ${millis},
        last_error      TEXT
      );
      CREATE INDEX outbox_due ON outbox(kind, next_attempt_at) WHERE delivered_at IS NULL AND dead_at IS NULL;
    `,
  },
  {
    version: 4,
    description: "audit_events: the security events of every account",
    // Ids are compared as cursors: byte order on both databases (SQLite's default is already binary).
    ddl: ({ millisType: millis, name }) => `
      CREATE TABLE audit_events (
        id         TEXT${name === "postgres" ? ' COLLATE "C"' : ""} PRIMARY KEY,
        at         ${millis} NOT NULL,
        type       TEXT NOT NULL,
        user_id    TEXT,
        session_id TEXT,
        ip         TEXT,
        user_agent TEXT,
        data       TEXT NOT NULL
      );
      CREATE INDEX audit_events_user ON audit_events(user_id, id);
      CREATE INDEX audit_events_at ON audit_events(at);
    `,
  },
  {
    version: 5,
    description: "email: addresses on users, mailed-link tokens",
    ddl: ({ millisType: millis }) => `
      ALTER TABLE users ADD COLUMN email TEXT;
      ALTER TABLE users ADD COLUMN email_key TEXT;
      ALTER TABLE users ADD COLUMN email_verified_at ${millis};
      CREATE UNIQUE INDEX ${EMAIL_UNIQUE.constraint} ON users(email_key);

      CREATE TABLE mail_tokens (
        hash       TEXT PRIMARY KEY,
        user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        purpose    TEXT NOT NULL,
        email      TEXT NOT NULL,
        created_at ${millis} NOT NULL,
        expires_at ${millis} NOT NULL,
        used_at    ${millis}
      );
      CREATE INDEX mail_tokens_user_purpose ON mail_tokens(user_id, purpose);
    `,
  },
  {
    version: 6,
    description: "sessions remember how the user proved it (amr, RFC 8176)",
    // Sessions that existed before were all password logins.
    ddl: () => `ALTER TABLE sessions ADD COLUMN amr TEXT NOT NULL DEFAULT '["pwd"]';`,
  },
  {
    version: 7,
    description: "TOTP factors",
    ddl: ({ millisType: millis }) => `
      CREATE TABLE totp_factors (
        user_id        TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
        sealed_secret  TEXT NOT NULL,
        created_at     ${millis} NOT NULL,
        confirmed_at   ${millis},
        last_used_step ${millis}
      );
    `,
  },
  {
    version: 8,
    description: "recovery codes",
    ddl: ({ millisType: millis }) => `
      CREATE TABLE recovery_codes (
        user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        hash       TEXT NOT NULL,
        created_at ${millis} NOT NULL,
        used_at    ${millis},
        PRIMARY KEY (user_id, hash)
      );
    `,
  },
  {
    version: 9,
    description: "tokens between the two login steps",
    ddl: ({ millisType: millis }) => `
      CREATE TABLE mfa_tokens (
        hash       TEXT PRIMARY KEY,
        user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        created_at ${millis} NOT NULL,
        expires_at ${millis} NOT NULL,
        attempts   INTEGER NOT NULL DEFAULT 0,
        used_at    ${millis}
      );
      CREATE INDEX mfa_tokens_expires_at ON mfa_tokens(expires_at);
    `,
  },
  {
    version: 10,
    description: "passkeys (WebAuthn credentials)",
    ddl: ({ millisType: millis }) => `
      CREATE TABLE passkeys (
        id           TEXT PRIMARY KEY,
        user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        public_key   TEXT NOT NULL,
        counter      ${millis} NOT NULL,
        transports   TEXT NOT NULL DEFAULT '[]',
        device_type  TEXT NOT NULL,
        backed_up    INTEGER NOT NULL,
        name         TEXT NOT NULL,
        created_at   ${millis} NOT NULL,
        last_used_at ${millis}
      );
      CREATE INDEX passkeys_user_id ON passkeys(user_id);
    `,
  },
  {
    version: 11,
    description: "WebAuthn challenges",
    ddl: ({ millisType: millis }) => `
      CREATE TABLE webauthn_challenges (
        hash       TEXT PRIMARY KEY,
        purpose    TEXT NOT NULL,
        user_id    TEXT REFERENCES users(id) ON DELETE CASCADE,
        created_at ${millis} NOT NULL,
        expires_at ${millis} NOT NULL,
        used_at    ${millis}
      );
      CREATE INDEX webauthn_challenges_expires_at ON webauthn_challenges(expires_at);
    `,
  },
  {
    version: 12,
    description: "index on a user's live sessions, newest first, so a login's cost does not grow with ended sessions",
    // Ended sessions stay until pruned; the plain user_id index made each login walk and sort all of them.
    ddl: () => "CREATE INDEX sessions_live_by_user ON sessions(user_id, created_at, id) WHERE ended_at IS NULL;",
  },
];
