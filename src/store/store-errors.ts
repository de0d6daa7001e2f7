import { AuthError, isAuthError } from "../core/errors.ts";

/** The one message every store uses when its database cannot do what was asked. */
export const UNAVAILABLE_MESSAGE = "The database is unavailable. Try again shortly.";

/** Wraps a driver failure as AuthError("unavailable"); AuthErrors pass through unchanged. */
export function toStoreError(cause: unknown): AuthError {
  if (isAuthError(cause)) return cause;
  return new AuthError("unavailable", UNAVAILABLE_MESSAGE, { cause });
}

/**
 * Runs a synchronous driver call, turning any driver failure into AuthError("unavailable").
 * Callers catch the failures they handle themselves (e.g. a unique violation) inside `work`.
 */
export function guardDriver<T>(work: () => T): T {
  try {
    return work();
  } catch (error) {
    throw toStoreError(error);
  }
}
