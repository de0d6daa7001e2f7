/**
 * A committed change other parts of Gatehouse (and other instances) must learn about at once:
 * a session ended (its access tokens must stop working), or the signing keys changed.
 */
export type StoreChange =
  | { readonly kind: "session_ended"; readonly sessionId: string; readonly endedAt: number }
  | { readonly kind: "signing_keys_changed" };

/**
 * Receives a store's change feed. Changes made through this store arrive right after they
 * commit; changes made by other processes as the database delivers them. The feed promises
 * nothing about what was committed while it was disconnected: after `connected()` the
 * listener catches up by querying (e.g. sessions ended since it last heard from the feed).
 * Listeners must not throw; they are called synchronously by the feed.
 */
export interface ChangeListener {
  change(change: StoreChange): void;
  /**
   * The feed is connected (on the first connection and after each reconnection): every
   * change committed from now on will be delivered; those committed before may have been missed.
   */
  connected(): void;
  /**
   * Every change committed before `sentAt` has been delivered. `sentAt` is a
   * `performance.now()` time of this process; called periodically while connected, so a
   * listener can tell a feed that went silent (a dead connection) from one with no news.
   */
  synced(sentAt: number): void;
  /** The feed lost its connection: changes may be missed until the next `connected()`. */
  lost(error: unknown): void;
}

/** A session that ended, as the catch-up query reads it. */
export interface EndedSession {
  readonly id: string;
  readonly endedAt: number;
}

export interface ChangeSubscription {
  /** Stops delivering to this listener (and closes the feed's connection when it was the last). Idempotent. */
  close(): Promise<void>;
}

/**
 * The change-feed capability of a store. PostgreSQL: `LISTEN/NOTIFY`, the notification sent
 * by the very statement that ends a session, so it fires on commit and nobody can forget it.
 * SQLite: in-process, after commit, plus a cheap check for commits by other processes.
 */
export interface ChangeFeedCapability {
  subscribeChanges(listener: ChangeListener): ChangeSubscription;
  /**
   * Catch-up after a (re)connection, one bounded page at a time: sessions that ended after
   * `after` in (endedAt, id) order, at most `limit`. Start with `{ endedAt: since, id: "" }`.
   */
  listEndedSessions(after: EndedSession, limit: number): Promise<EndedSession[]>;
}
