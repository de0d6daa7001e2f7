/** A login: the refresh tokens of one device belong to one session. */
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
  /** How the user proved it at login (RFC 8176 values, e.g. ["pwd", "otp", "mfa"]); refresh keeps it. */
  amr: string[];
}

/** Sessions. */
export interface SessionStore {
  insertSession(session: SessionRecord): Promise<void>;
  findSession(id: string): Promise<SessionRecord | null>;
  /** Sessions of a user that have not ended and not expired at `now`, newest first. */
  listLiveSessions(userId: string, now: number): Promise<SessionRecord[]>;
  touchSession(id: string, lastUsedAt: number, idleExpiresAt: number): Promise<void>;
  /** Ends a session if still open; returns whether it changed. */
  endSession(id: string, at: number, reason: string): Promise<boolean>;
  /** Ends every open session of the user except `exceptSessionId`; returns how many. */
  endUserSessions(userId: string, at: number, reason: string, exceptSessionId?: string): Promise<number>;
  /** Deletes sessions (and their refresh tokens) that ended or expired before `before`; returns how many. */
  pruneSessions(before: number): Promise<number>;
}
