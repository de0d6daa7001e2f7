/**
 * The one error type Gatehouse throws. `code` is stable and part of the public contract;
 * the HTTP status for each code is decided in one place (src/express/http-status.ts).
 */
export type AuthErrorCode =
  | "invalid_request"
  | "invalid_password"
  | "invalid_credentials"
  | "invalid_token"
  | "insufficient_scope"
  | "insufficient_user_authentication"
  | "invalid_grant"
  | "forbidden_origin"
  | "registration_closed"
  | "username_taken"
  | "invalid_link"
  | "email_not_verified"
  | "not_found"
  | "payload_too_large"
  | "unsupported_media_type"
  | "too_many_requests"
  | "unavailable"
  | "invalid_config"
  | "internal_error";

/**
 * Which check refused a bearer token (`invalid_token`). Never sent to the client, whose answer
 * stays one message per failure: it feeds metrics and logs, so the set is closed.
 */
export type TokenRejection =
  | "missing"
  | "malformed"
  | "unknown_key"
  | "bad_signature"
  | "wrong_algorithm"
  | "expired"
  | "not_yet_valid"
  | "wrong_issuer"
  | "wrong_audience"
  | "wrong_type"
  | "bad_claims"
  | "session_ended"
  | "insufficient_scope"
  | "other";

export interface AuthErrorOptions {
  /** Seconds until a throttled caller may try again (too_many_requests). */
  retryAfter?: number;
  /** Scope(s) that were required (insufficient_scope). */
  scope?: string;
  /** Whether a bearer token was presented; shapes WWW-Authenticate on 401s. */
  tokenPresented?: boolean;
  /** Which check refused a bearer token (invalid_token). */
  reason?: TokenRejection;
  cause?: unknown;
}

export class AuthError extends Error {
  override readonly name = "AuthError";
  readonly code: AuthErrorCode;
  readonly retryAfter: number | undefined;
  readonly scope: string | undefined;
  readonly tokenPresented: boolean | undefined;
  readonly reason: TokenRejection | undefined;

  constructor(code: AuthErrorCode, message: string, options: AuthErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryAfter = options.retryAfter;
    this.scope = options.scope;
    this.tokenPresented = options.tokenPresented;
    this.reason = options.reason;
  }
}

export function isAuthError(value: unknown): value is AuthError {
  return value instanceof AuthError;
}

/** Shorthand for the most common failure: a bearer token we will not accept. */
export function invalidToken(message: string, reason: TokenRejection = "other"): AuthError {
  return new AuthError("invalid_token", message, { tokenPresented: true, reason });
}
