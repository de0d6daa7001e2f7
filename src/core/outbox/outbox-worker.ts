import type { Clock } from "../clock.ts";
import type { OutboxRecord } from "../store/outbox.ts";
import type { Store } from "../store/store.ts";
import { describeDeliveryFailure, PermanentDeliveryError } from "./delivery-errors.ts";
import type { Outbox, OutboxDelivery } from "./outbox.ts";
import { type RetryPolicy, retryDelayMs } from "./retry-policy.ts";

/**
 * Delivers one message. Resolve: delivered. Throw: the attempt failed and is retried later
 * (or never, for a PermanentDeliveryError). `signal` aborts when the attempt's time is up;
 * a handler that ignores it is abandoned at that point all the same.
 */
export type OutboxHandler = (message: OutboxDelivery, signal: AbortSignal) => Promise<void>;

export interface OutboxHandlerOptions {
  /** Longest one attempt may take. The lease on a claimed message is this plus a margin. */
  timeoutMs: number;
}

/** The part of a logger the worker uses (pino's fits). */
export interface WorkerLog {
  warn(fields: object, message: string): void;
}

export interface OutboxWorkerOptions {
  store: Pick<Store, "claimOutboxMessages" | "markOutboxDelivered" | "markOutboxFailed" | "countOutboxBacklog">;
  outbox: Outbox;
  clock: Clock;
  retry: RetryPolicy;
  log: WorkerLog;
  /** Wait between polls while there is nothing to do (default 250 ms); a local enqueue wakes it at once. */
  idlePollMs?: number;
  /** Messages claimed (and delivered concurrently) per kind and pass (default 10). */
  batchSize?: number;
  /** Added to a handler's timeout to make the lease: covers a slow database and clock skew (default 5 s). */
  leaseMarginMs?: number;
  /** Messages not yet delivered or dead, reported after busy passes and every few seconds. */
  onBacklog?: ((count: number) => void) | undefined;
  /** Every failed attempt, by kind. */
  onDeliveryFailed?: ((kind: string) => void) | undefined;
  random?: () => number;
}

interface Registered {
  handler: OutboxHandler;
  timeoutMs: number;
}

const BACKLOG_REPORT_MS = 5000;
const MAX_ERROR_PAUSE_MS = 30_000;

/**
 * Delivers outbox messages: claims due ones (a lease, so a crashed worker's messages come
 * back once it runs out), hands each to the handler of its kind, marks it delivered, or
 * schedules a retry with exponential backoff and jitter until the last attempt, after which
 * it is dead. Every attempt carries the message's one id. With several instances on one
 * PostgreSQL database each message is claimed by one worker at a time, so in the normal case
 * it is delivered once; after a crash mid-delivery it may be delivered again (at least once).
 */
export class OutboxWorker {
  readonly #o: OutboxWorkerOptions;
  readonly #handlers = new Map<string, Registered>();
  readonly #idlePollMs: number;
  readonly #batchSize: number;
  readonly #leaseMarginMs: number;
  #running: Promise<void> | undefined;
  #started = false;
  #stopping = false;
  #wakePending = false;
  #wake: (() => void) | undefined;
  #lastBacklogReport = 0;
  #consecutiveErrors = 0;
  readonly #unsubscribe: () => void;

  constructor(options: OutboxWorkerOptions) {
    this.#o = options;
    this.#idlePollMs = options.idlePollMs ?? 250;
    this.#batchSize = options.batchSize ?? 10;
    this.#leaseMarginMs = options.leaseMarginMs ?? 5000;
    this.#unsubscribe = options.outbox.onEnqueued((kind) => {
      if (this.#handlers.has(kind)) this.wake();
    });
  }

  /** Sets the handler for a kind; messages of kinds without one wait in the outbox. */
  register(kind: string, handler: OutboxHandler, options: OutboxHandlerOptions): void {
    this.#handlers.set(kind, { handler, timeoutMs: options.timeoutMs });
    if (this.#started) this.#run();
    this.wake();
  }

  get kinds(): string[] {
    return [...this.#handlers.keys()];
  }

  /** Starts polling (idempotent); with no handler yet, at the first `register()`. */
  start(): void {
    this.#started = true;
    this.#run();
  }

  #run(): void {
    // Nothing to deliver without a handler: no timer, no queries.
    if (this.#running || this.#stopping || this.#handlers.size === 0) return;
    this.#running = this.#loop();
  }

  /** Looks for due messages now instead of at the next poll. */
  wake(): void {
    this.#wakePending = true;
    this.#wake?.();
  }

  /**
   * Stops claiming and resolves once the attempts in flight have finished (each is bounded
   * by its handler's timeout) and been recorded. Idempotent.
   */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#unsubscribe();
    this.#wake?.();
    await this.#running;
  }

  async #loop(): Promise<void> {
    while (!this.#stopping) {
      let busy = false;
      try {
        busy = await this.#pass();
        this.#consecutiveErrors = 0;
      } catch (error) {
        // Database down: say so once per outage, then keep trying with growing pauses.
        if (this.#consecutiveErrors++ === 0) this.#o.log.warn({ err: error }, "outbox worker: cannot reach the outbox");
      }
      if (this.#stopping) break;
      if (this.#consecutiveErrors > 0) {
        await this.#sleep(Math.min(MAX_ERROR_PAUSE_MS, this.#idlePollMs * 2 ** Math.min(this.#consecutiveErrors, 10)));
      } else if (!busy) {
        await this.#sleep(this.#idlePollMs);
      }
    }
  }

  /** One round over every kind; true when it delivered or failed anything. */
  async #pass(): Promise<boolean> {
    this.#wakePending = false;
    let claimed = 0;
    for (const [kind, registered] of this.#handlers) {
      if (this.#stopping) break;
      const now = this.#o.clock.now();
      const messages = await this.#o.store.claimOutboxMessages({
        kind,
        now,
        leaseUntil: now + registered.timeoutMs + this.#leaseMarginMs,
        limit: this.#batchSize,
      });
      claimed += messages.length;
      await Promise.all(messages.map((message) => this.#attempt(message, registered)));
    }
    await this.#reportBacklog(claimed > 0);
    return claimed > 0;
  }

  async #attempt(record: OutboxRecord, registered: Registered): Promise<void> {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = new Error(`no answer within ${registered.timeoutMs} ms`);
        controller.abort(error);
        reject(error);
      }, registered.timeoutMs);
    });
    try {
      const delivery = this.#o.outbox.open(record);
      await Promise.race([registered.handler(delivery, controller.signal), timedOut]);
    } catch (error) {
      await this.#failed(record, error);
      return;
    } finally {
      clearTimeout(timer);
    }
    try {
      await this.#o.store.markOutboxDelivered(record.id, this.#o.clock.now());
    } catch (error) {
      // Delivered but not recorded: the lease runs out and it is sent again (at least once).
      this.#o.log.warn({ err: error, outboxId: record.id, kind: record.kind }, "outbox: could not record a delivery");
    }
  }

  async #failed(record: OutboxRecord, error: unknown): Promise<void> {
    this.#o.onDeliveryFailed?.(record.kind);
    const now = this.#o.clock.now();
    const gaveUp = error instanceof PermanentDeliveryError || record.attempts >= this.#o.retry.maxAttempts;
    const lastError = describeDeliveryFailure(error);
    const delay = retryDelayMs(this.#o.retry, record.attempts, this.#o.random);
    const fields = { outboxId: record.id, kind: record.kind, attempts: record.attempts, error: lastError };
    try {
      await this.#o.store.markOutboxFailed(record.id, {
        attempts: record.attempts,
        lastError,
        nextAttemptAt: gaveUp ? now : now + delay,
        deadAt: gaveUp ? now : null,
      });
    } catch (markError) {
      // Not recorded: the lease runs out and the attempt simply happens again.
      this.#o.log.warn({ ...fields, err: markError }, "outbox: could not record a failed delivery");
      return;
    }
    if (gaveUp) this.#o.log.warn(fields, "outbox: delivery given up; the message is dead");
  }

  async #reportBacklog(busy: boolean): Promise<void> {
    const report = this.#o.onBacklog;
    if (report === undefined) return;
    const now = Date.now();
    if (!busy && now - this.#lastBacklogReport < BACKLOG_REPORT_MS) return;
    this.#lastBacklogReport = now;
    report(await this.#o.store.countOutboxBacklog());
  }

  /**
   * Waits `ms`, or less when woken; a wake that came during the pass skips the wait. The timer
   * does not keep the process alive on its own (a server has its listening socket for that).
   */
  #sleep(ms: number): Promise<void> {
    if (this.#wakePending || this.#stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      this.#wake = done;
    });
  }
}
