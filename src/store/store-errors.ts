import { AuthError, isAuthError } from "../core/errors.ts";

/** The one message every store uses when its database cannot do what was asked. */
const UNAVAILABLE_MESSAGE = "The database is unavailable. Try again shortly.";

/**
 * Wraps a driver failure as AuthError("unavailable"), keeping the driver's error as `cause`
 * (never in the message, which may reach a client); AuthErrors pass through unchanged.
 */
export function toStoreError(cause: unknown): AuthError {
  if (isAuthError(cause)) return cause;
  return new AuthError("unavailable", UNAVAILABLE_MESSAGE, { cause });
}
