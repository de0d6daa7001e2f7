/**
 * Thrown by an outbox handler when trying again cannot help (the receiver said the endpoint is
 * gone, the address is invalid): the message is marked dead at once instead of retried.
 * The message is shown to operators (`last_error`), so it must never hold a secret.
 */
export class PermanentDeliveryError extends Error {
  override readonly name = "PermanentDeliveryError";
}

/** What a failed attempt leaves in `last_error`: a short, single-line reason. */
export function describeDeliveryFailure(error: unknown): string {
  const text = error instanceof Error ? error.message || error.name : String(error);
  return text.replace(/\s+/g, " ").trim().slice(0, 200) || "delivery failed";
}
