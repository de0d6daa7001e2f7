/** A refresh token, stored only as a hash. */
export interface RefreshTokenRecord {
  /** base64url SHA-256 of the opaque token. */
  hash: string;
  sessionId: string;
  createdAt: number;
  /** When this token was exchanged for its successor; null while it is the live one. */
  rotatedAt: number | null;
}

/** Refresh-token hashes. */
export interface RefreshTokenStore {
  /** Inserts; returns false (no error) when the hash already exists. */
  insertRefreshToken(token: RefreshTokenRecord): Promise<boolean>;
  findRefreshToken(hash: string): Promise<RefreshTokenRecord | null>;
  /** Sets rotatedAt if still null; returns whether this call did it. */
  markRefreshTokenRotated(hash: string, at: number): Promise<boolean>;
}

/**
 * Row locks, inside a transaction only. Two transactions that lock the same row take turns:
 * the second reads only after the first has committed (PostgreSQL: SELECT … FOR UPDATE;
 * SQLite: every transaction already holds the database's write lock).
 */
export interface RefreshTokenLocks {
  /** Like findRefreshToken, and the row stays locked until the transaction ends. */
  lockRefreshToken(hash: string): Promise<RefreshTokenRecord | null>;
}
