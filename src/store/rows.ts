import type { RefreshTokenRecord, SessionRecord, SigningKeyRecord, UserRecord } from "./store.ts";
import { usernameKey } from "./username-key.ts";

/** Column shapes as both databases return them (snake_case, times as numbers, roles as JSON text). */
export interface UserRow {
  id: string;
  username: string;
  password_hash: string;
  created_at: number;
  disabled_at: number | null;
  roles: string;
}

export interface SessionRow {
  id: string;
  user_id: string;
  created_at: number;
  last_used_at: number;
  absolute_expires_at: number;
  idle_expires_at: number;
  ended_at: number | null;
  end_reason: string | null;
  user_agent: string | null;
  ip: string | null;
}

export interface RefreshTokenRow {
  hash: string;
  session_id: string;
  created_at: number;
  rotated_at: number | null;
}

export interface SigningKeyRow {
  kid: string;
  alg: string;
  private_jwk: string;
  public_jwk: string;
  created_at: number;
  activates_at: number;
  retired_at: number | null;
  expires_at: number | null;
}

/** Row → record conversions: snake_case columns to the Store's camelCase records. */

export function toUser(row: UserRow): UserRecord {
  return {
    id: row.id,
    username: row.username,
    passwordHash: row.password_hash,
    createdAt: row.created_at,
    disabledAt: row.disabled_at,
    roles: parseRoles(row.roles),
  };
}

export function toSession(row: SessionRow): SessionRecord {
  return {
    id: row.id,
    userId: row.user_id,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    absoluteExpiresAt: row.absolute_expires_at,
    idleExpiresAt: row.idle_expires_at,
    endedAt: row.ended_at,
    endReason: row.end_reason,
    userAgent: row.user_agent,
    ip: row.ip,
  };
}

export function toRefreshToken(row: RefreshTokenRow): RefreshTokenRecord {
  return { hash: row.hash, sessionId: row.session_id, createdAt: row.created_at, rotatedAt: row.rotated_at };
}

export function toSigningKey(row: SigningKeyRow): SigningKeyRecord {
  return {
    kid: row.kid,
    alg: row.alg,
    privateJwk: row.private_jwk,
    publicJwk: row.public_jwk,
    createdAt: row.created_at,
    activatesAt: row.activates_at,
    retiredAt: row.retired_at,
    expiresAt: row.expires_at,
  };
}

/** Roles are stored as a JSON array of strings; anything else reads as no roles. */
function parseRoles(text: string): string[] {
  const value: unknown = JSON.parse(text);
  return Array.isArray(value) ? value.filter((role): role is string => typeof role === "string") : [];
}

/*
 * Values for the INSERT statements of both drivers, in the column order both schemas use
 * (SQLite's statements.ts and PostgreSQL's queries.ts list the columns in this order).
 */
type Nullable<T> = T | null;

export function userValues(user: UserRecord): [string, string, string, string, number, Nullable<number>, string] {
  return [user.id, user.username, usernameKey(user.username), user.passwordHash, user.createdAt, user.disabledAt, JSON.stringify(user.roles)];
}

export function sessionValues(
  s: SessionRecord,
): [string, string, number, number, number, number, Nullable<number>, Nullable<string>, Nullable<string>, Nullable<string>] {
  return [s.id, s.userId, s.createdAt, s.lastUsedAt, s.absoluteExpiresAt, s.idleExpiresAt, s.endedAt, s.endReason, s.userAgent, s.ip];
}

export function signingKeyValues(k: SigningKeyRecord): [string, string, string, string, number, number, Nullable<number>, Nullable<number>] {
  return [k.kid, k.alg, k.privateJwk, k.publicJwk, k.createdAt, k.activatesAt, k.retiredAt, k.expiresAt];
}
