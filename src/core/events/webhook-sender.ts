import type { Clock } from "../clock.ts";
import { PermanentDeliveryError } from "../outbox/delivery-errors.ts";
import type { OutboxHandler } from "../outbox/outbox-worker.ts";
import { type WebhookMessage, webhookBody } from "./webhook-message.ts";
import { signWebhook } from "./webhook-signature.ts";

export interface WebhookSenderOptions {
  url: string;
  /** The key from `WEBHOOK_SECRET` (see parseWebhookSecret). */
  key: Buffer;
  clock: Clock;
  fetch?: typeof globalThis.fetch;
}

/**
 * The outbox handler that POSTs each event to `WEBHOOK_URL`, signed as Standard Webhooks
 * specifies. Any 2xx is delivered. A 410 Gone means the receiver wants no more: the message is
 * dead at once, not retried (later events are still sent; remove WEBHOOK_URL to stop them).
 * Anything else (other statuses, redirects, timeouts, refused connections) is retried. Failure
 * reasons never include the URL, which may carry a credential of the receiver.
 */
export function createWebhookSender(options: WebhookSenderOptions): OutboxHandler {
  const send = options.fetch ?? globalThis.fetch;
  return async (delivery, signal) => {
    const message = delivery.payload as unknown as WebhookMessage;
    const body = webhookBody(message);
    // Signed per attempt: receivers refuse stale timestamps (Standard Webhooks allows 5 minutes).
    const timestamp = Math.floor(options.clock.now() / 1000);
    let response: Response;
    try {
      response = await send(options.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "user-agent": "Gatehouse-Webhooks/1",
          "webhook-id": message.id,
          "webhook-timestamp": String(timestamp),
          "webhook-signature": signWebhook(options.key, message.id, timestamp, body),
        },
        body,
        redirect: "manual",
        signal,
      });
    } catch (error) {
      throw new Error(`could not reach the webhook receiver (${networkReason(error)})`);
    }
    // The answer's body is not needed; release the connection.
    await response.body?.cancel().catch(() => undefined);
    if (response.status === 410) {
      throw new PermanentDeliveryError("HTTP 410 Gone: the webhook receiver asked for no more deliveries");
    }
    if (response.status < 200 || response.status > 299)
      throw new Error(`webhook receiver answered HTTP ${response.status}`);
  };
}

/** The system error code behind a failed fetch (ECONNREFUSED, …), or a timeout. */
function networkReason(error: unknown): string {
  if (error instanceof Error && (error.name === "AbortError" || error.name === "TimeoutError")) return "timed out";
  const cause = error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
  return typeof cause?.code === "string" ? cause.code : "network error";
}
