/**
 * The storage port. Every method is async so SQLite and PostgreSQL share one shape;
 * `transaction` runs a unit of work atomically (SQLite: BEGIN IMMEDIATE behind a lock,
 * PostgreSQL: one pooled client with BEGIN/COMMIT and row locks).
 *
 * Times are milliseconds since the epoch. Refresh tokens are only ever stored as hashes.
 * Driver failures (connection lost, disk error, busy) surface as AuthError("unavailable").
 */

export interface UserRecord {
  id: string;
  username: string;
  passwordHash: string;
  createdAt: number;
  disabledAt: number | null;
  roles: string[];
}

export interface SessionRecord {
  id: string;
  userId: string;
  createdAt: number;
  lastUsedAt: number;
  /** Absolute end: createdAt + absolute lifetime. Never extended. */
  absoluteExpiresAt: number;
  /** Idle end: lastUsedAt + idle lifetime, capped at absoluteExpiresAt. */
  idleExpiresAt: number;
  endedAt: number | null;
  endReason: string | null;
  userAgent: string | null;
  ip: string | null;
}

export interface RefreshTokenRecord {
  /** base64url SHA-256 of the opaque token. */
  hash: string;
  sessionId: string;
  createdAt: number;
  /** When this token was exchanged for its successor; null while it is the live one. */
  rotatedAt: number | null;
}

export interface SigningKeyRecord {
  kid: string;
  alg: string;
  /** Private key as JWK JSON text (asymmetric keys only). */
  privateJwk: string;
  publicJwk: string;
  createdAt: number;
  /** Starts signing at this time; published in JWKS from createdAt. */
  activatesAt: number;
  /** Stops signing at this time (null: still eligible). */
  retiredAt: number | null;
  /** Removed from JWKS after this time (last token signed by it has expired). */
  expiresAt: number | null;
}

/** Operations available inside and outside a transaction. */
export interface StoreOps {
  // users
  insertUser(user: UserRecord): Promise<void>; // throws AuthError("username_taken") on conflict
  findUserByUsername(username: string): Promise<UserRecord | null>;
  findUserById(id: string): Promise<UserRecord | null>;
  listUsers(): Promise<UserRecord[]>;
  updatePasswordHash(userId: string, passwordHash: string): Promise<void>;
  setUserDisabled(userId: string, disabledAt: number | null): Promise<void>;
  setUserRoles(userId: string, roles: string[]): Promise<void>;

  // sessions
  insertSession(session: SessionRecord): Promise<void>;
  findSession(id: string): Promise<SessionRecord | null>;
  /** Sessions of a user that have not ended and not expired at `now`, newest first. */
  listLiveSessions(userId: string, now: number): Promise<SessionRecord[]>;
  touchSession(id: string, lastUsedAt: number, idleExpiresAt: number): Promise<void>;
  /** Ends a session if still open; returns whether it changed. */
  endSession(id: string, at: number, reason: string): Promise<boolean>;
  /** Ends every open session of the user except `exceptSessionId`; returns how many. */
  endUserSessions(userId: string, at: number, reason: string, exceptSessionId?: string): Promise<number>;

  // refresh tokens (hashes only)
  /** Inserts; returns false (no error) when the hash already exists. */
  insertRefreshToken(token: RefreshTokenRecord): Promise<boolean>;
  findRefreshToken(hash: string): Promise<RefreshTokenRecord | null>;
  /** Sets rotatedAt if still null; returns whether this call did it. */
  markRefreshTokenRotated(hash: string, at: number): Promise<boolean>;

  // signing keys
  listSigningKeys(): Promise<SigningKeyRecord[]>;
  insertSigningKey(key: SigningKeyRecord): Promise<void>;
  updateSigningKey(kid: string, changes: { retiredAt?: number | null; expiresAt?: number | null }): Promise<void>;

  // small named secrets shared by all instances (e.g. the refresh-rotation HMAC key)
  getSetting(name: string): Promise<string | null>;
  /** Inserts unless present; returns the value now stored (first writer wins). */
  putSettingIfAbsent(name: string, value: string): Promise<string>;
}

export interface Store extends StoreOps {
  readonly kind: "sqlite" | "postgres";
  /** Creates or upgrades the schema. Idempotent. */
  migrate(): Promise<void>;
  /**
   * Runs `work` atomically. Inside, use only the `tx` argument. Rows read through
   * `lockRefreshToken` stay locked until the transaction ends.
   */
  transaction<T>(work: (tx: TransactionOps) => Promise<T>): Promise<T>;
  /** Deletes sessions (and their tokens) that ended or expired before `before`. */
  pruneSessions(before: number): Promise<number>;
  /** Cheap liveness probe; throws AuthError("unavailable") when the database is down. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface TransactionOps extends StoreOps {
  /** Like findRefreshToken, but locks the row (FOR UPDATE) where the database supports it. */
  lockRefreshToken(hash: string): Promise<RefreshTokenRecord | null>;
}
