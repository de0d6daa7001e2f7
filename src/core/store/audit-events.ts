/** One security event in the audit trail. Never a token, password or code. */
export interface AuditEventRecord {
  /** Sorts in the order the events happened (UUIDv7), so it doubles as the paging cursor. */
  id: string;
  at: number;
  type: string;
  userId: string | null;
  sessionId: string | null;
  ip: string | null;
  userAgent: string | null;
  /** Flat details (strings, numbers, booleans, nulls). */
  data: Record<string, string | number | boolean | null>;
}

/** Which events to list; every filter is optional except the page size. Newest first. */
export interface AuditEventQuery {
  userId?: string;
  type?: string;
  /** Only events at or after this time. */
  since?: number;
  /** Only events older than the one with this id (the cursor of the previous page). */
  before?: string;
  limit: number;
}

/** The audit trail. */
export interface AuditEventStore {
  insertAuditEvent(event: AuditEventRecord): Promise<void>;
  /** Newest first (by id). */
  listAuditEvents(query: AuditEventQuery): Promise<AuditEventRecord[]>;
  /** Deletes events that happened before `before`; returns how many. */
  pruneAuditEvents(before: number): Promise<number>;
}
