import type { Clock } from "../clock.ts";
import { AuthError } from "../errors.ts";
import type { Outbox } from "../outbox/outbox.ts";
import type { Store, TransactionOps } from "../store/store.ts";
import { createEventIdGenerator } from "./event-id.ts";
import type { SecurityEvent, SecurityEventData, SecurityEventInput } from "./security-event.ts";
import { WEBHOOK_KIND, webhookMessageOf } from "./webhook-message.ts";

/** An in-process subscriber: told about each event after its transaction committed. */
export type SecurityEventListener = (event: SecurityEvent) => void | Promise<void>;

/** The part of a logger events use (pino's fits). */
export interface EventLog {
  error(fields: object, message: string): void;
}

export interface SecurityEventsOptions {
  clock: Clock;
  log: EventLog;
  /** Where webhook calls are queued; without it no webhook is sent. */
  webhookOutbox?: Outbox | undefined;
}

/** Detail names that suggest a credential: refused, so none can slip into the trail by accident. */
const SECRET_NAME = /pass|token|secret|code|cookie|authorization|otp|credential/i;
const MAX_DETAIL_LENGTH = 256;
const MAX_DETAILS = 16;

/**
 * Records security events: the audit row and (with webhooks on) the webhook's outbox message
 * in the caller's transaction, so the event exists exactly when the change it tells of does.
 * Subscribers hear of it once that transaction has committed; a subscriber's failure is
 * logged and never reaches the request that caused the event.
 */
export class SecurityEvents {
  readonly #clock: Clock;
  readonly #log: EventLog;
  readonly #webhookOutbox: Outbox | undefined;
  readonly #listeners = new Set<SecurityEventListener>();
  readonly #nextId = createEventIdGenerator();

  constructor(options: SecurityEventsOptions) {
    this.#clock = options.clock;
    this.#log = options.log;
    this.#webhookOutbox = options.webhookOutbox;
  }

  /** Records `input` in `tx`; returns the event as stored. */
  async record(tx: TransactionOps, input: SecurityEventInput): Promise<SecurityEvent> {
    const at = this.#clock.now();
    const event: SecurityEvent = {
      id: this.#nextId(at),
      type: input.type,
      at,
      userId: input.userId,
      sessionId: input.sessionId ?? null,
      ip: input.ip ?? null,
      userAgent: input.userAgent ?? null,
      data: checkedData(input.data ?? {}),
    };
    await tx.insertAuditEvent(event);
    if (this.#webhookOutbox !== undefined) {
      await this.#webhookOutbox.enqueue(tx, { kind: WEBHOOK_KIND, payload: webhookMessageOf(event) });
    }
    if (this.#listeners.size > 0) tx.afterCommit(() => this.#publish(event));
    return event;
  }

  /** Records an event that goes with no other change, in a transaction of its own. */
  recordAlone(store: Pick<Store, "transaction">, input: SecurityEventInput): Promise<SecurityEvent> {
    return store.transaction((tx) => this.record(tx, input));
  }

  /** Adds an in-process subscriber; returns the function that removes it. */
  subscribe(listener: SecurityEventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #publish(event: SecurityEvent): void {
    const fields = { eventId: event.id, type: event.type };
    for (const listener of this.#listeners) {
      try {
        const result = listener(event);
        if (result instanceof Promise) {
          result.catch((error: unknown) => this.#log.error({ ...fields, err: error }, "onEvent subscriber failed"));
        }
      } catch (error) {
        this.#log.error({ ...fields, err: error }, "onEvent subscriber failed");
      }
    }
  }
}

/**
 * Event details as stored: at most 16 flat values, strings cut at 256 characters, and no name
 * that suggests a credential (a programming error, refused loudly rather than stored).
 */
function checkedData(data: SecurityEventData): SecurityEventData {
  const entries = Object.entries(data);
  if (entries.length > MAX_DETAILS) throw new AuthError("internal_error", "A security event has too many details.");
  const checked: SecurityEventData = {};
  for (const [name, value] of entries) {
    if (SECRET_NAME.test(name)) {
      throw new AuthError(
        "internal_error",
        `A security event detail may not be named "${name}": it suggests a secret.`,
      );
    }
    checked[name] = typeof value === "string" ? value.slice(0, MAX_DETAIL_LENGTH) : value;
  }
  return checked;
}
