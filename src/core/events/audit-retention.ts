import type { Clock } from "../clock.ts";
import type { Store } from "../store/store.ts";

/** Delivered outbox messages are kept a day: long enough to look into a delivery, no longer. */
export const DELIVERED_OUTBOX_RETENTION_MS = 24 * 60 * 60 * 1000;
const PRUNE_EVERY_MS = 60 * 60 * 1000;

export interface PruneResult {
  auditEvents: number;
  outboxMessages: number;
}

/**
 * Deletes what has outlived its retention: audit events older than `retentionMs`, outbox
 * messages delivered more than a day ago, and dead ones older than `retentionMs` (kept that
 * long so an operator can see what never arrived).
 */
export async function pruneExpiredEvents(
  store: Pick<Store, "pruneAuditEvents" | "pruneOutbox">,
  now: number,
  retentionMs: number,
): Promise<PruneResult> {
  const auditEvents = await store.pruneAuditEvents(now - retentionMs);
  const outboxMessages = await store.pruneOutbox(now - DELIVERED_OUTBOX_RETENTION_MS, now - retentionMs);
  return { auditEvents, outboxMessages };
}

/**
 * Prunes at start and then every hour, for as long as the process runs. Every instance does
 * it; the deletes are idempotent, so instances sharing a database need no coordination.
 * Returns the function that stops it.
 */
export function schedulePruning(options: {
  store: Pick<Store, "pruneAuditEvents" | "pruneOutbox">;
  clock: Clock;
  retentionMs: number;
  onError: (error: unknown) => void;
}): () => void {
  const prune = () =>
    void pruneExpiredEvents(options.store, options.clock.now(), options.retentionMs).catch(options.onError);
  const first = setTimeout(prune, 0);
  const every = setInterval(prune, PRUNE_EVERY_MS);
  first.unref();
  every.unref();
  return () => {
    clearTimeout(first);
    clearInterval(every);
  };
}
