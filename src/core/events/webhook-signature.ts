import { createHmac } from "node:crypto";
import { AuthError } from "../errors.ts";

const PREFIX = "whsec_";
const MIN_BYTES = 24;
const MAX_BYTES = 64;

/**
 * The key in a `WEBHOOK_SECRET`: `whsec_` then the base64 of 24 to 64 random bytes, the form
 * Standard Webhooks uses and its libraries (`standardwebhooks`, Svix) accept on the receiving side.
 * @throws AuthError("invalid_config") naming the setting, without repeating the value.
 */
export function parseWebhookSecret(text: string, setting = "WEBHOOK_SECRET"): Buffer {
  const encoded = text.startsWith(PREFIX) ? text.slice(PREFIX.length) : undefined;
  const valid = encoded !== undefined && /^[A-Za-z0-9+/]+={0,2}$/.test(encoded) && encoded.length % 4 === 0;
  const key = valid ? Buffer.from(encoded, "base64") : undefined;
  if (key === undefined || key.length < MIN_BYTES || key.length > MAX_BYTES) {
    throw new AuthError(
      "invalid_config",
      `${setting} must be "whsec_" followed by the base64 of ${MIN_BYTES} to ${MAX_BYTES} random bytes ` +
        "(e.g. whsec_$(openssl rand -base64 32)).",
    );
  }
  return key;
}

/**
 * `webhook-signature` per Standard Webhooks: `v1,` and the base64 HMAC-SHA256, under the
 * secret's key, of `<webhook-id>.<webhook-timestamp>.<body>`.
 */
export function signWebhook(key: Buffer, id: string, timestampSeconds: number, body: string): string {
  const mac = createHmac("sha256", key).update(`${id}.${timestampSeconds}.${body}`).digest("base64");
  return `v1,${mac}`;
}
