/** A user's TOTP factor. Pending until confirmed with a first code; one per user. */
export interface TotpFactorRecord {
  userId: string;
  /** The base32 secret, sealed (AES-256-GCM) under the key-encryption key: never stored in the clear. */
  sealedSecret: string;
  createdAt: number;
  confirmedAt: number | null;
  /** The last RFC 6238 time step a code was accepted for; codes of this step or earlier are refused. */
  lastUsedStep: number | null;
}

/** One recovery code: only its SHA-256 hash is kept. */
export interface RecoveryCodeRecord {
  userId: string;
  hash: string;
  createdAt: number;
  usedAt: number | null;
}

/** The proof, between the two login steps, that the password was right. Only its hash is kept. */
export interface MfaTokenRecord {
  hash: string;
  userId: string;
  createdAt: number;
  expiresAt: number;
  /** How many second-factor checks it has been used for. */
  attempts: number;
  usedAt: number | null;
}

/** Second factors: TOTP, recovery codes, and the tokens of the two-step login. */
export interface MfaStore {
  /** Stores a pending factor, replacing an existing pending one; never replaces a confirmed one (returns false). */
  putPendingTotpFactor(factor: TotpFactorRecord): Promise<boolean>;
  findTotpFactor(userId: string): Promise<TotpFactorRecord | null>;
  /** Confirms a pending factor and records `step` as used; false when there was none pending. */
  confirmTotpFactor(userId: string, at: number, step: number): Promise<boolean>;
  /**
   * Records `step` as used if it is later than the last used one (a confirmed factor only).
   * Atomic: of two requests with codes of the same step, one wins. False when refused.
   */
  useTotpStep(userId: string, step: number): Promise<boolean>;
  /** Removes the factor (pending or confirmed); returns whether there was one. */
  deleteTotpFactor(userId: string): Promise<boolean>;

  /** Replaces every recovery code of the user with these hashes. */
  replaceRecoveryCodes(userId: string, hashes: readonly string[], at: number): Promise<void>;
  /** The user's unused codes. */
  listUnusedRecoveryCodes(userId: string): Promise<RecoveryCodeRecord[]>;
  /** Marks one unused code used; false when it was already used (a concurrent request won). */
  useRecoveryCode(userId: string, hash: string, at: number): Promise<boolean>;
  deleteRecoveryCodes(userId: string): Promise<void>;

  insertMfaToken(token: MfaTokenRecord): Promise<void>;
  /**
   * Takes one try of an unused, unexpired token that has fewer than `maxAttempts` tries:
   * atomic, so parallel requests never get more tries than allowed. The token after the
   * increment, or null when no try is left (or it is unknown, used or expired).
   */
  takeMfaTokenAttempt(hash: string, now: number, maxAttempts: number): Promise<MfaTokenRecord | null>;
  /** The token if it is unused, unexpired and has tries left (takes none). */
  findLiveMfaToken(hash: string, now: number, maxAttempts: number): Promise<MfaTokenRecord | null>;
  /** Marks the token used; false when it already was. */
  consumeMfaToken(hash: string, at: number): Promise<boolean>;
  /** Deletes tokens that expired before `before`; returns how many. */
  pruneMfaTokens(before: number): Promise<number>;
}
