import { AuthError } from "../../core/errors.ts";
import { emailKey } from "../../core/email/email-address.ts";
import { EmailTakenError, type UserRecord } from "../../core/store/users.ts";
import { usernameKey } from "../username-key.ts";
import type { UniqueKey } from "./dialect.ts";
import type { SqlRunner } from "./driver.ts";
import { statement } from "./statement.ts";

export interface UserRow {
  id: string;
  username: string;
  password_hash: string;
  created_at: number;
  disabled_at: number | null;
  /** A JSON array of strings. */
  roles: string;
  email: string | null;
  email_verified_at: number | null;
}

/** Makes usernames unique by their lookup key; its violation is "username_taken". */
export const USERNAME_UNIQUE: UniqueKey = {
  constraint: "users_username_key_unique",
  table: "users",
  columns: ["username_key"],
};

/** Makes addresses unique by their lowercased key (NULLs, accounts without one, do not collide). */
export const EMAIL_UNIQUE: UniqueKey = {
  constraint: "users_email_key_unique",
  table: "users",
  columns: ["email_key"],
};

const COLUMNS = "id, username, password_hash, created_at, disabled_at, roles, email, email_verified_at";

const INSERT = statement<
  [string, string, string, string, number, number | null, string, string | null, string | null, number | null]
>(
  "insertUser",
  `INSERT INTO users (id, username, username_key, password_hash, created_at, disabled_at, roles,
     email, email_key, email_verified_at)
   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
);
const FIND_BY_EMAIL_KEY = statement<[string], UserRow>(
  "findUserByEmailKey",
  `SELECT ${COLUMNS} FROM users WHERE email_key = ?`,
);
const SET_EMAIL = statement<[string | null, string | null, number | null, string]>(
  "setUserEmail",
  "UPDATE users SET email = ?, email_key = ?, email_verified_at = ? WHERE id = ?",
);
const FIND_BY_KEY = statement<[string], UserRow>(
  "findUserByKey",
  `SELECT ${COLUMNS} FROM users WHERE username_key = ?`,
);
const FIND_BY_ID = statement<[string], UserRow>("findUserById", `SELECT ${COLUMNS} FROM users WHERE id = ?`);
const LIST = statement<[], UserRow>("listUsers", `SELECT ${COLUMNS} FROM users ORDER BY created_at, username_key`);
const SET_PASSWORD_HASH = statement<[string, string]>(
  "updatePasswordHash",
  "UPDATE users SET password_hash = ? WHERE id = ?",
);
const SET_DISABLED = statement<[number | null, string]>(
  "setUserDisabled",
  "UPDATE users SET disabled_at = ? WHERE id = ?",
);
const SET_ROLES = statement<[string, string]>("setUserRoles", "UPDATE users SET roles = ? WHERE id = ?");

export function toUser(row: UserRow): UserRecord {
  return {
    id: row.id,
    username: row.username,
    passwordHash: row.password_hash,
    createdAt: row.created_at,
    disabledAt: row.disabled_at,
    roles: parseRoles(row.roles),
    email: row.email,
    emailVerifiedAt: row.email_verified_at,
  };
}

/** Roles are stored as a JSON array of strings; anything else reads as no roles. */
function parseRoles(text: string): string[] {
  const value: unknown = JSON.parse(text);
  return Array.isArray(value) ? value.filter((role): role is string => typeof role === "string") : [];
}

export async function insert(db: SqlRunner, user: UserRecord): Promise<void> {
  const { id, username, passwordHash, createdAt, disabledAt, roles } = user;
  const email = user.email ?? null;
  try {
    await db.run(INSERT, [
      id,
      username,
      usernameKey(username),
      passwordHash,
      createdAt,
      disabledAt,
      JSON.stringify(roles),
      email,
      email === null ? null : emailKey(email),
      email === null ? null : (user.emailVerifiedAt ?? null),
    ]);
  } catch (error) {
    const cause = (error as { cause?: unknown }).cause;
    if (db.dialect.isUniqueViolation(cause, USERNAME_UNIQUE)) {
      throw new AuthError("username_taken", "That username is taken. Choose another one.");
    }
    if (db.dialect.isUniqueViolation(cause, EMAIL_UNIQUE)) throw new EmailTakenError("address taken");
    throw error;
  }
}

export async function findByEmail(db: SqlRunner, email: string): Promise<UserRecord | null> {
  const row = await db.get(FIND_BY_EMAIL_KEY, [emailKey(email)]);
  return row ? toUser(row) : null;
}

export async function setEmail(
  db: SqlRunner,
  userId: string,
  email: string | null,
  verifiedAt: number | null,
): Promise<void> {
  try {
    const key = email === null ? null : emailKey(email);
    await db.run(SET_EMAIL, [email, key, email === null ? null : verifiedAt, userId]);
  } catch (error) {
    if (db.dialect.isUniqueViolation((error as { cause?: unknown }).cause, EMAIL_UNIQUE)) {
      throw new EmailTakenError("address taken");
    }
    throw error;
  }
}

export async function findByUsername(db: SqlRunner, username: string): Promise<UserRecord | null> {
  const row = await db.get(FIND_BY_KEY, [usernameKey(username)]);
  return row ? toUser(row) : null;
}

export async function findById(db: SqlRunner, id: string): Promise<UserRecord | null> {
  const row = await db.get(FIND_BY_ID, [id]);
  return row ? toUser(row) : null;
}

export async function list(db: SqlRunner): Promise<UserRecord[]> {
  return (await db.all(LIST, [])).map(toUser);
}

export async function setPasswordHash(db: SqlRunner, userId: string, passwordHash: string): Promise<void> {
  await db.run(SET_PASSWORD_HASH, [passwordHash, userId]);
}

export async function setDisabled(db: SqlRunner, userId: string, disabledAt: number | null): Promise<void> {
  await db.run(SET_DISABLED, [disabledAt, userId]);
}

export async function setRoles(db: SqlRunner, userId: string, roles: string[]): Promise<void> {
  await db.run(SET_ROLES, [JSON.stringify(roles), userId]);
}
