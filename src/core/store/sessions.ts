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
}

/** Where a page of a user's sessions ends: the last session shown, in newest-first order. */
export interface SessionCursor {
  createdAt: number;
  id: string;
}

/** Sessions. */
export interface SessionStore {
  insertSession(session: SessionRecord): Promise<void>;
  findSession(id: string): Promise<SessionRecord | null>;
  /** Sessions of a user that have not ended and not expired at `now`, newest first. */
  listLiveSessions(userId: string, now: number): Promise<SessionRecord[]>;
  /**
   * One page of listLiveSessions: at most `limit`, in the same order (newest first, ties by id),
   * starting after `after` (null: from the newest). Keyset paging, so each page costs the same.
   */
  listLiveSessionsPage(
    userId: string,
    now: number,
    limit: number,
    after: SessionCursor | null,
  ): Promise<SessionRecord[]>;
  /** Ids of the user's live sessions past the newest `keep` (the ones a cap of `keep` would end). */
  listLiveSessionIdsBeyond(userId: string, now: number, keep: number): Promise<string[]>;
  touchSession(id: string, lastUsedAt: number, idleExpiresAt: number): Promise<void>;
  /** Ends a session if still open; returns whether it changed. */
  endSession(id: string, at: number, reason: string): Promise<boolean>;
  /** Ends every open session of the user except `exceptSessionId`; returns how many. */
  endUserSessions(userId: string, at: number, reason: string, exceptSessionId?: string): Promise<number>;
  /**
   * Deletes sessions (and their refresh tokens) that ended or expired before `before`; returns how
   * many. Works in bounded batches, so a large backlog never holds a long write lock.
   */
  pruneSessions(before: number): Promise<number>;
}

/** Inside a transaction only (see RefreshTokenLocks for how a lock behaves on each database). */
export interface SessionLocks {
  /**
   * Makes concurrent transactions that start sessions for the same user take turns, so that
   * counting the user's live sessions and ending the ones past a cap sees every other start.
   */
  lockUserSessions(userId: string): Promise<void>;
}
