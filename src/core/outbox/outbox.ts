import { randomUUID } from "node:crypto";
import type { Clock } from "../clock.ts";
import { outboxPayloadContext } from "../crypto/secret-contexts.ts";
import { AuthError } from "../errors.ts";
import type { OutboxRecord } from "../store/outbox.ts";
import type { TransactionOps } from "../store/store.ts";

/**
 * Encrypts payloads that hold a secret (a mail with a sign-in link): the shape of the
 * SecretBox, so the database alone never holds a usable link. `context` binds a sealed
 * payload to its row, so it cannot be moved to another.
 */
export interface PayloadSealer {
  seal(plaintext: string, context: string): string;
  open(sealed: string, context: string): string;
}

export type OutboxPayload = Record<string, unknown>;

export interface OutboxMessageInput {
  /** Which handler delivers it: lowercase letters, digits and `_` ("webhook", "mail"). */
  kind: string;
  /** Any JSON object; what the handler needs, and nothing more. */
  payload: OutboxPayload;
  /** The payload holds a secret: stored sealed, opened only to deliver it. */
  secret?: boolean;
}

/** A message as a handler receives it: the same `id` on every attempt. */
export interface OutboxDelivery {
  id: string;
  kind: string;
  payload: OutboxPayload;
  /** 1 on the first attempt. */
  attempt: number;
  createdAt: number;
}

const KIND = /^[a-z][a-z0-9_]{0,31}$/;

/**
 * Writes messages for later delivery, inside the caller's transaction: the message exists
 * exactly when the change that caused it committed. Listeners (the worker) hear about each
 * one right after that commit, so delivery starts at once instead of at the next poll.
 */
export class Outbox {
  readonly #clock: Clock;
  readonly #sealer: PayloadSealer | undefined;
  readonly #listeners = new Set<(kind: string) => void>();

  constructor(options: { clock: Clock; sealer?: PayloadSealer | undefined }) {
    this.#clock = options.clock;
    this.#sealer = options.sealer;
  }

  /** Adds a message in `tx`; returns its id. */
  async enqueue(tx: TransactionOps, input: OutboxMessageInput): Promise<string> {
    if (!KIND.test(input.kind)) {
      throw new AuthError("internal_error", `Outbox kind "${input.kind.slice(0, 40)}" is not a plain lowercase name.`);
    }
    const id = randomUUID();
    const json = JSON.stringify(input.payload);
    if (!json.startsWith("{")) throw new AuthError("internal_error", "An outbox payload must be a JSON object.");
    let payload = json;
    if (input.secret) {
      if (this.#sealer === undefined) {
        throw new AuthError(
          "internal_error",
          "This outbox has no sealer, so it cannot store a payload holding a secret.",
        );
      }
      payload = this.#sealer.seal(json, outboxPayloadContext(id));
    }
    const now = this.#clock.now();
    await tx.insertOutboxMessage({
      id,
      kind: input.kind,
      payload,
      createdAt: now,
      attempts: 0,
      nextAttemptAt: now,
      lockedUntil: null,
      deliveredAt: null,
      deadAt: null,
      lastError: null,
    });
    tx.afterCommit(() => {
      for (const listener of this.#listeners) listener(input.kind);
    });
    return id;
  }

  /** Called with the kind of every message this process enqueues, once its transaction commits. */
  onEnqueued(listener: (kind: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * The message as its handler sees it, its payload opened when sealed. A JSON payload is
   * always an object, so its text starts with "{"; anything else was sealed.
   * @throws when the payload cannot be opened (wrong key, tampered) or parsed.
   */
  open(record: OutboxRecord): OutboxDelivery {
    let text = record.payload;
    if (!text.startsWith("{")) {
      if (this.#sealer === undefined) throw new Error("sealed payload, but no key to open it");
      text = this.#sealer.open(text, outboxPayloadContext(record.id));
    }
    const payload = JSON.parse(text) as OutboxPayload;
    return { id: record.id, kind: record.kind, payload, attempt: record.attempts, createdAt: record.createdAt };
  }
}
