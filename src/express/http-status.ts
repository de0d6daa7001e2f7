import type { AuthError, AuthErrorCode } from "../core/errors.ts";

/** The one place where an error code becomes an HTTP status. */
const STATUS: Record<AuthErrorCode, number> = {
  invalid_request: 400,
  invalid_password: 400,
  invalid_link: 400,
  invalid_credentials: 401,
  invalid_token: 401,
  invalid_grant: 401,
  insufficient_scope: 403,
  insufficient_user_authentication: 401,
  forbidden_origin: 403,
  registration_closed: 403,
  email_not_verified: 403,
  not_found: 404,
  username_taken: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  too_many_requests: 429,
  internal_error: 500,
  invalid_config: 500,
  unavailable: 503,
};

export function httpStatusFor(code: AuthErrorCode): number {
  return STATUS[code];
}

/**
 * Failures Node's HTTP layer finds before any route runs. They have no AuthError, and some
 * need a status no error code maps to (408, 417, 431), so each gets its status and the
 * contract's code here.
 */
export type TransportFailure =
  | "malformed"
  | "missing_host"
  | "headers_too_large"
  | "chunk_extensions_too_large"
  | "timeout"
  | "expectation_failed"
  | "connect";

export interface TransportAnswer {
  status: number;
  error: AuthErrorCode;
  message: string;
}

const TRANSPORT: Record<TransportFailure, TransportAnswer> = {
  malformed: { status: 400, error: "invalid_request", message: "The request could not be parsed as HTTP." },
  missing_host: { status: 400, error: "invalid_request", message: "An HTTP/1.1 request needs one Host header." },
  headers_too_large: { status: 431, error: "invalid_request", message: "The request headers are too large." },
  chunk_extensions_too_large: { status: 413, error: "payload_too_large", message: "Chunk extensions too large." },
  timeout: { status: 408, error: "invalid_request", message: "The request took too long to arrive." },
  expectation_failed: { status: 417, error: "invalid_request", message: 'Only "Expect: 100-continue" is supported.' },
  connect: { status: 400, error: "invalid_request", message: "This server is not a proxy: CONNECT is not served." },
};

export function transportAnswer(failure: TransportFailure): TransportAnswer {
  return TRANSPORT[failure];
}

const quote = (value: string) => value.replace(/["\\]/g, "");

/** RFC 6750 §3: the challenge with 401s on bearer routes, 403 insufficient_scope and 400 invalid_request. */
export function bearerChallenge(error: AuthError, realm: string): string | undefined {
  if (error.code === "insufficient_scope") {
    const scope = error.scope ? `, scope="${quote(error.scope)}"` : "";
    return `Bearer realm="${quote(realm)}", error="insufficient_scope"${scope}`;
  }
  // RFC 9470 §3: the token is valid, but the way the user logged in is not enough here.
  if (error.code === "insufficient_user_authentication") {
    const description = `error_description="${quote(error.message)}"`;
    return `Bearer realm="${quote(realm)}", error="insufficient_user_authentication", ${description}`;
  }
  // A token sent in more than one place (RFC 6750 §3.1).
  if (error.code === "invalid_request" && error.tokenPresented) {
    return `Bearer realm="${quote(realm)}", error="invalid_request", error_description="${quote(error.message)}"`;
  }
  if (error.code !== "invalid_token") return undefined;
  if (!error.tokenPresented) return `Bearer realm="${quote(realm)}"`;
  return `Bearer realm="${quote(realm)}", error="invalid_token", error_description="${quote(error.message)}"`;
}
