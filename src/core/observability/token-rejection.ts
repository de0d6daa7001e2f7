import { isAuthError, type TokenRejection } from "../errors.ts";

/**
 * The reason to count for an error a bearer check answered with, or undefined when the answer
 * was not a refusal of the token (the database being down, say). Errors from parsing the
 * Authorization header carry no reason of their own: a sent but unreadable token is `malformed`.
 */
export function tokenRejectionOf(error: unknown): TokenRejection | undefined {
  if (!isAuthError(error)) return undefined;
  switch (error.code) {
    case "invalid_token":
      if (error.reason !== undefined) return error.reason;
      return error.tokenPresented === false ? "missing" : "malformed";
    case "insufficient_scope":
      return "insufficient_scope";
    case "invalid_request":
      return "malformed";
    default:
      return undefined;
  }
}
