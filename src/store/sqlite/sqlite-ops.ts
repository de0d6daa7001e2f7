import { AuthError } from "../../core/errors.ts";
import type { RefreshTokenRecord, SessionRecord, SigningKeyRecord, StoreOps, UserRecord } from "../store.ts";
import { usernameKey } from "../username-key.ts";
import { sessionValues, signingKeyValues, toRefreshToken, toSession, toSigningKey, toUser, userValues } from "../rows.ts";
import type { Statements } from "./statements.ts";

/**
 * The StoreOps queries, written once. Subclasses decide how a query runs: the store
 * queues it behind its lock, a transaction runs it directly on the connection it holds.
 * `run` must wrap driver failures as AuthError("unavailable").
 */
export abstract class SqliteOps implements StoreOps {
  protected abstract run<T>(query: (statements: Statements) => T): T | Promise<T>;

  async insertUser(user: UserRecord): Promise<void> {
    return this.run((s) => {
      try {
        s.insertUser.run(...userValues(user));
      } catch (error) {
        // The only UNIQUE column besides the primary key is username_key.
        if ((error as { code?: unknown }).code === "SQLITE_CONSTRAINT_UNIQUE") {
          throw new AuthError("username_taken", "That username is taken. Choose another one.");
        }
        throw error;
      }
    });
  }

  async findUserByUsername(username: string): Promise<UserRecord | null> {
    return this.run((s) => {
      const row = s.findUserByKey.get(usernameKey(username));
      return row ? toUser(row) : null;
    });
  }

  async findUserById(id: string): Promise<UserRecord | null> {
    return this.run((s) => {
      const row = s.findUserById.get(id);
      return row ? toUser(row) : null;
    });
  }

  async listUsers(): Promise<UserRecord[]> {
    return this.run((s) => s.listUsers.all().map(toUser));
  }

  async updatePasswordHash(userId: string, passwordHash: string): Promise<void> {
    return this.run((s) => {
      s.updatePasswordHash.run(passwordHash, userId);
    });
  }

  async setUserDisabled(userId: string, disabledAt: number | null): Promise<void> {
    return this.run((s) => {
      s.setUserDisabled.run(disabledAt, userId);
    });
  }

  async setUserRoles(userId: string, roles: string[]): Promise<void> {
    return this.run((s) => {
      s.setUserRoles.run(JSON.stringify(roles), userId);
    });
  }

  async insertSession(session: SessionRecord): Promise<void> {
    return this.run((s) => {
      s.insertSession.run(...sessionValues(session));
    });
  }

  async findSession(id: string): Promise<SessionRecord | null> {
    return this.run((s) => {
      const row = s.findSession.get(id);
      return row ? toSession(row) : null;
    });
  }

  async listLiveSessions(userId: string, now: number): Promise<SessionRecord[]> {
    return this.run((s) => s.listLiveSessions.all(userId, now, now).map(toSession));
  }

  async touchSession(id: string, lastUsedAt: number, idleExpiresAt: number): Promise<void> {
    return this.run((s) => {
      s.touchSession.run(lastUsedAt, idleExpiresAt, id);
    });
  }

  async endSession(id: string, at: number, reason: string): Promise<boolean> {
    return this.run((s) => s.endSession.run(at, reason, id).changes > 0);
  }

  async endUserSessions(userId: string, at: number, reason: string, exceptSessionId?: string): Promise<number> {
    return this.run((s) => s.endUserSessions.run(at, reason, userId, exceptSessionId ?? null).changes);
  }

  async insertRefreshToken(token: RefreshTokenRecord): Promise<boolean> {
    return this.run((s) => s.insertRefreshToken.run(token.hash, token.sessionId, token.createdAt, token.rotatedAt).changes > 0);
  }

  async findRefreshToken(hash: string): Promise<RefreshTokenRecord | null> {
    return this.run((s) => {
      const row = s.findRefreshToken.get(hash);
      return row ? toRefreshToken(row) : null;
    });
  }

  async markRefreshTokenRotated(hash: string, at: number): Promise<boolean> {
    return this.run((s) => s.markRefreshTokenRotated.run(at, hash).changes > 0);
  }

  async listSigningKeys(): Promise<SigningKeyRecord[]> {
    return this.run((s) => s.listSigningKeys.all().map(toSigningKey));
  }

  async insertSigningKey(key: SigningKeyRecord): Promise<void> {
    return this.run((s) => {
      s.insertSigningKey.run(...signingKeyValues(key));
    });
  }

  async updateSigningKey(kid: string, changes: { retiredAt?: number | null; expiresAt?: number | null }): Promise<void> {
    const { retiredAt, expiresAt } = changes;
    return this.run((s) => {
      s.updateSigningKey.run(
        retiredAt === undefined ? 0 : 1,
        retiredAt ?? null,
        expiresAt === undefined ? 0 : 1,
        expiresAt ?? null,
        kid,
      );
    });
  }

  async getSetting(name: string): Promise<string | null> {
    return this.run((s) => s.getSetting.get(name)?.value ?? null);
  }

  async putSettingIfAbsent(name: string, value: string): Promise<string> {
    // Insert and read back in one synchronous step: nothing can run in between.
    return this.run((s) => {
      s.insertSettingIfAbsent.run(name, value);
      return s.getSetting.get(name)?.value ?? value;
    });
  }
}
