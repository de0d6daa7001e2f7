/**
 * A message waiting to leave the process (a webhook call, a mail), written in the same
 * transaction as the change that caused it, so a crash after commit cannot lose it.
 */
export interface OutboxRecord {
  /** Stays the same on every delivery attempt, so a receiver can drop duplicates. */
  id: string;
  /** Which handler delivers it ("webhook", "mail", …). */
  kind: string;
  /** JSON text, or sealed text when the message holds a secret (see the outbox). */
  payload: string;
  createdAt: number;
  /** Delivery attempts started so far (a claim counts one). */
  attempts: number;
  /** Not claimed before this time. */
  nextAttemptAt: number;
  /** While in the future, a worker holds the message (its lease); a crashed worker's lease just runs out. */
  lockedUntil: number | null;
  deliveredAt: number | null;
  /** Set when the last allowed attempt failed, or a handler said retrying cannot help. */
  deadAt: number | null;
  /** Short reason of the latest failed attempt, for operators; never a secret. */
  lastError: string | null;
}

/** What a worker asks for: due messages of one kind, held until `leaseUntil`. */
export interface OutboxClaimRequest {
  kind: string;
  now: number;
  leaseUntil: number;
  limit: number;
}

/** The outcome of a failed attempt: try again at `nextAttemptAt`, or give up (`deadAt`). */
export interface OutboxFailure {
  /** The attempt count the claim returned: a late worker whose lease ran out changes nothing. */
  attempts: number;
  lastError: string;
  nextAttemptAt: number;
  deadAt: number | null;
}

/** Outbox rows. */
export interface OutboxStore {
  insertOutboxMessage(message: OutboxRecord): Promise<void>;
  findOutboxMessage(id: string): Promise<OutboxRecord | null>;
  /** Marks a message delivered (whoever claimed it); returns whether it was still undelivered. */
  markOutboxDelivered(id: string, at: number): Promise<boolean>;
  /** Records a failed attempt and releases the lease; returns false when the claim is no longer this one. */
  markOutboxFailed(id: string, failure: OutboxFailure): Promise<boolean>;
  /** Messages neither delivered nor dead. */
  countOutboxBacklog(): Promise<number>;
  /** Deletes messages delivered before `deliveredBefore` and dead ones before `deadBefore`; returns how many. */
  pruneOutbox(deliveredBefore: number, deadBefore: number): Promise<number>;
}

/**
 * Claiming is a unit of work of its own (a store method, not part of a caller's transaction):
 * due messages are leased in one transaction, so two workers never hold the same message.
 * PostgreSQL skips rows another worker is claiming (FOR UPDATE SKIP LOCKED); on SQLite the
 * transaction holds the database's write lock.
 */
export interface OutboxClaims {
  /**
   * Up to `limit` messages of `kind` that are due at `now`, neither delivered nor dead and not
   * leased, oldest due first; each gets `lockedUntil = leaseUntil` and one more attempt.
   */
  claimOutboxMessages(request: OutboxClaimRequest): Promise<OutboxRecord[]>;
}
