import type { QueryResult, QueryResultRow } from "pg";
import { AuthError } from "../../core/errors.ts";
import type { RefreshTokenRow, SessionRow, SigningKeyRow, UserRow } from "../rows.ts";
import { sessionValues, signingKeyValues, toRefreshToken, toSession, toSigningKey, toUser, userValues } from "../rows.ts";
import type { RefreshTokenRecord, SessionRecord, SigningKeyRecord, StoreOps, UserRecord } from "../store.ts";
import { toStoreError } from "../store-errors.ts";
import { usernameKey } from "../username-key.ts";
import { type NamedQuery, QUERIES as Q } from "./queries.ts";
import { USERNAME_UNIQUE_CONSTRAINT } from "./schema.ts";

/**
 * The StoreOps queries, written once. Subclasses say where a query goes: the store sends
 * it to the pool, a transaction to the one client it holds.
 */
export abstract class PostgresOps implements StoreOps {
  /** Sends one query; may throw raw driver errors (the callers here wrap them). */
  protected abstract send<R extends QueryResultRow>(query: NamedQuery, values: unknown[]): Promise<QueryResult<R>>;

  /** Sends one query; every driver failure becomes AuthError("unavailable"). */
  protected async run<R extends QueryResultRow>(query: NamedQuery, values: unknown[]): Promise<QueryResult<R>> {
    try {
      return await this.send<R>(query, values);
    } catch (error) {
      throw toStoreError(error);
    }
  }

  async insertUser(user: UserRecord): Promise<void> {
    const values = userValues(user);
    try {
      await this.send(Q.insertUser, values);
    } catch (error) {
      const { code, constraint } = error as { code?: unknown; constraint?: unknown };
      if (code === "23505" && constraint === USERNAME_UNIQUE_CONSTRAINT) {
        throw new AuthError("username_taken", "That username is taken. Choose another one.");
      }
      throw toStoreError(error);
    }
  }

  async findUserByUsername(username: string): Promise<UserRecord | null> {
    const { rows } = await this.run<UserRow>(Q.findUserByKey, [usernameKey(username)]);
    return rows[0] ? toUser(rows[0]) : null;
  }

  async findUserById(id: string): Promise<UserRecord | null> {
    const { rows } = await this.run<UserRow>(Q.findUserById, [id]);
    return rows[0] ? toUser(rows[0]) : null;
  }

  async listUsers(): Promise<UserRecord[]> {
    return (await this.run<UserRow>(Q.listUsers, [])).rows.map(toUser);
  }

  async updatePasswordHash(userId: string, passwordHash: string): Promise<void> {
    await this.run(Q.updatePasswordHash, [userId, passwordHash]);
  }

  async setUserDisabled(userId: string, disabledAt: number | null): Promise<void> {
    await this.run(Q.setUserDisabled, [userId, disabledAt]);
  }

  async setUserRoles(userId: string, roles: string[]): Promise<void> {
    await this.run(Q.setUserRoles, [userId, JSON.stringify(roles)]);
  }

  async insertSession(session: SessionRecord): Promise<void> {
    await this.run(Q.insertSession, sessionValues(session));
  }

  async findSession(id: string): Promise<SessionRecord | null> {
    const { rows } = await this.run<SessionRow>(Q.findSession, [id]);
    return rows[0] ? toSession(rows[0]) : null;
  }

  async listLiveSessions(userId: string, now: number): Promise<SessionRecord[]> {
    return (await this.run<SessionRow>(Q.listLiveSessions, [userId, now])).rows.map(toSession);
  }

  async touchSession(id: string, lastUsedAt: number, idleExpiresAt: number): Promise<void> {
    await this.run(Q.touchSession, [id, lastUsedAt, idleExpiresAt]);
  }

  async endSession(id: string, at: number, reason: string): Promise<boolean> {
    return ((await this.run(Q.endSession, [id, at, reason])).rowCount ?? 0) > 0;
  }

  async endUserSessions(userId: string, at: number, reason: string, exceptSessionId?: string): Promise<number> {
    return (await this.run(Q.endUserSessions, [userId, at, reason, exceptSessionId ?? null])).rowCount ?? 0;
  }

  async insertRefreshToken(token: RefreshTokenRecord): Promise<boolean> {
    const result = await this.run(Q.insertRefreshToken, [token.hash, token.sessionId, token.createdAt, token.rotatedAt]);
    return (result.rowCount ?? 0) > 0;
  }

  async findRefreshToken(hash: string): Promise<RefreshTokenRecord | null> {
    const { rows } = await this.run<RefreshTokenRow>(Q.findRefreshToken, [hash]);
    return rows[0] ? toRefreshToken(rows[0]) : null;
  }

  async markRefreshTokenRotated(hash: string, at: number): Promise<boolean> {
    return ((await this.run(Q.markRefreshTokenRotated, [hash, at])).rowCount ?? 0) > 0;
  }

  async listSigningKeys(): Promise<SigningKeyRecord[]> {
    return (await this.run<SigningKeyRow>(Q.listSigningKeys, [])).rows.map(toSigningKey);
  }

  async insertSigningKey(key: SigningKeyRecord): Promise<void> {
    await this.run(Q.insertSigningKey, signingKeyValues(key));
  }

  async updateSigningKey(kid: string, changes: { retiredAt?: number | null; expiresAt?: number | null }): Promise<void> {
    const { retiredAt, expiresAt } = changes;
    await this.run(Q.updateSigningKey, [kid, retiredAt !== undefined, retiredAt ?? null, expiresAt !== undefined, expiresAt ?? null]);
  }

  async getSetting(name: string): Promise<string | null> {
    const { rows } = await this.run<{ value: string }>(Q.getSetting, [name]);
    return rows[0]?.value ?? null;
  }

  async putSettingIfAbsent(name: string, value: string): Promise<string> {
    // Two statements on purpose: under READ COMMITTED the SELECT sees a row another
    // instance committed while our INSERT waited on it; a single CTE would not.
    await this.run(Q.insertSettingIfAbsent, [name, value]);
    return (await this.getSetting(name)) ?? value;
  }
}
