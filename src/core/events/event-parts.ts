import type { Clock } from "../clock.ts";
import type { GatehouseConfig } from "../config/gatehouse-config.ts";
import { Outbox, type PayloadSealer } from "../outbox/outbox.ts";
import { OutboxWorker, type WorkerLog } from "../outbox/outbox-worker.ts";
import type { Store } from "../store/store.ts";
import { type PruneResult, pruneExpiredEvents, schedulePruning } from "./audit-retention.ts";
import { type EventLog, type SecurityEventListener, SecurityEvents } from "./security-events.ts";
import { WEBHOOK_KIND } from "./webhook-message.ts";
import { createWebhookSender } from "./webhook-sender.ts";
import { parseWebhookSecret } from "./webhook-signature.ts";

/** The settings security events, webhooks and the outbox run on. */
export type EventSettings = Pick<GatehouseConfig, "auditRetentionSeconds" | "webhook" | "outbox">;

export interface EventParts {
  events: SecurityEvents;
  outbox: Outbox;
  worker: OutboxWorker;
  /** Deletes audit events and outbox messages past their retention now (the hourly job does it too). */
  pruneNow(): Promise<PruneResult>;
  /** Starts the worker (when a kind has a handler) and the hourly pruning. */
  startBackgroundWork(): void;
  /** Stops the pruning and the worker; resolves once the deliveries in flight are recorded. */
  stop(): Promise<void>;
}

/**
 * Builds the events and outbox of one Gatehouse: the audit trail, the webhook sender when
 * `webhookUrl` is set, the worker that delivers outbox messages, and retention. Nothing runs
 * in the background until `startBackgroundWork()`.
 */
export function createEventParts(options: {
  settings: EventSettings;
  store: Store;
  clock: Clock;
  log: EventLog & WorkerLog;
  sealer?: PayloadSealer | undefined;
  onEvent?: SecurityEventListener | undefined;
  /** Hooks for metrics: the outbox backlog, and each failed delivery attempt by kind. */
  onOutboxBacklog?: ((count: number) => void) | undefined;
  onOutboxDeliveryFailed?: ((kind: string) => void) | undefined;
}): EventParts {
  const { settings, store, clock, log } = options;
  const { url: webhookUrl, secret, timeoutSeconds } = settings.webhook;
  // Both or neither: the settings' rules refuse one without the other.
  const webhookKey = webhookUrl !== undefined && secret !== undefined ? parseWebhookSecret(secret) : undefined;
  const outbox = new Outbox({ clock, sealer: options.sealer });
  const events = new SecurityEvents({ clock, log, webhookOutbox: webhookKey === undefined ? undefined : outbox });
  if (options.onEvent !== undefined) events.subscribe(options.onEvent);
  const retry = settings.outbox;
  const worker = new OutboxWorker({
    store,
    outbox,
    clock,
    log,
    retry: {
      baseDelayMs: retry.retryBaseSeconds * 1000,
      maxDelayMs: retry.retryMaxSeconds * 1000,
      maxAttempts: retry.maxAttempts,
    },
    onBacklog: options.onOutboxBacklog,
    onDeliveryFailed: options.onOutboxDeliveryFailed,
  });
  if (webhookKey !== undefined && webhookUrl !== undefined) {
    const send = createWebhookSender({ url: webhookUrl, key: webhookKey, clock });
    worker.register(WEBHOOK_KIND, send, { timeoutMs: timeoutSeconds * 1000 });
  }
  let stopPruning: (() => void) | undefined;
  return {
    events,
    outbox,
    worker,
    pruneNow: () => pruneExpiredEvents(store, clock.now(), settings.auditRetentionSeconds * 1000),
    startBackgroundWork() {
      worker.start();
      stopPruning ??= schedulePruning({
        store,
        clock,
        retentionMs: settings.auditRetentionSeconds * 1000,
        onError: (error) => log.warn({ err: error }, "pruning old audit events failed"),
      });
    },
    async stop() {
      stopPruning?.();
      await worker.stop();
    },
  };
}
