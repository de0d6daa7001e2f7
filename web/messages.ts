import { isGatehouseClientError } from "../src/client/index.ts";

/** What the page tells a person, for each error code the server (or the client) can report. */
export function describeError(error: unknown): string {
  if (!isGatehouseClientError(error)) {
    return "Something unexpected went wrong in this page. Reload it and try again.";
  }
  switch (error.code) {
    case "invalid_credentials":
      return "That username and password do not match an account. Check both and try again.";
    case "too_many_requests": {
      const wait = error.retryAfter;
      return wait === undefined
        ? "Too many attempts. Wait a little, then try again."
        : `Too many attempts. Try again in ${wait} ${wait === 1 ? "second" : "seconds"}.`;
    }
    case "invalid_password":
      // The server's message names the rule that was broken (length, common password, …).
      return error.message;
    case "username_taken":
      return "That username is already taken. Choose another one, or log in if it is yours.";
    case "invalid_link":
      return "That link is no longer valid: it was used, it expired, or a newer one was sent. Ask for a new one.";
    case "email_not_verified":
      return "Confirm your email address first: open the link we mailed you.";
    case "registration_closed":
      return "This server is not accepting new accounts. Ask its administrator to create one for you.";
    case "invalid_request":
      return `The server could not accept that: ${error.message}`;
    case "unavailable":
      // The server's message says which of its services is down: the database, or a required
      // breached-password check.
      return error.message || "The server is temporarily unavailable. Nothing was changed; try again in a moment.";
    case "forbidden_origin":
      return "This page is not allowed to use your session from this address. Open the demo from the server's own address.";
    case "invalid_token":
    case "invalid_grant":
      return "Your session has ended or expired. Log in again.";
    case "insufficient_scope":
      return "Your account is not allowed to do that.";
    case "not_found":
      return "That no longer exists (it may already have been ended).";
    case "payload_too_large":
      return "That input is too large. Shorten it and try again.";
    case "unsupported_media_type":
      return "The request was not sent as JSON. This is a bug in the page; reload it and try again.";
    case "network_error":
      return "Could not reach the server. Check your connection and try again.";
    case "internal_error":
      return "The server ran into a problem. Try again later.";
    default:
      return error.message || `The server answered with an error (HTTP ${error.status}).`;
  }
}
