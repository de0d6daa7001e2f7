import type { SecurityEvent } from "./security-event.ts";

/** The outbox kind of webhook calls. */
export const WEBHOOK_KIND = "webhook";

/**
 * What the outbox keeps for one webhook call: the event id (`webhook-id`) and the body's parts.
 * (A type, not an interface, so it is a plain JSON object to the outbox.)
 */
export type WebhookMessage = {
  id: string;
  type: string;
  /** When the event happened, ISO 8601. */
  timestamp: string;
  data: {
    user_id: string | null;
    session_id: string | null;
    ip: string | null;
    user_agent: string | null;
    details: Record<string, string | number | boolean | null>;
  };
};

/** The webhook for an event, shaped as Standard Webhooks suggests: `{type, timestamp, data}`. */
export function webhookMessageOf(event: SecurityEvent): WebhookMessage {
  return {
    id: event.id,
    type: event.type,
    timestamp: new Date(event.at).toISOString(),
    data: {
      user_id: event.userId,
      session_id: event.sessionId,
      ip: event.ip,
      user_agent: event.userAgent,
      details: event.data,
    },
  };
}

/** The request body: the same bytes on every attempt (key order is fixed here). */
export function webhookBody(message: WebhookMessage): string {
  return JSON.stringify({ type: message.type, timestamp: message.timestamp, data: message.data });
}
