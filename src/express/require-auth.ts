import type { NextFunction, Request, RequestHandler, Response } from "express";
import type { AuthContext } from "../core/auth-service.ts";
import { AuthError } from "../core/errors.ts";
import { bearerTokenOf, missingBearer } from "./bearer.ts";
import { sendAuthError as answerAuthError } from "./error-handler.ts";
import "./request-auth.ts";

export interface RequireAuthOptions {
  /** Every one of these must be in the token's `scope` claim. */
  scopes?: string[];
  /** At least one of these must be in the token's `roles` claim. */
  roles?: string[];
  /**
   * Check that the token's session has not ended, so logout and every other revocation take
   * effect at once, on every instance. Default true. The check is answered from memory (the
   * revocation list the database's change feed keeps), without a database read, except while
   * the feed is down or catching up.
   *
   * `false` trusts the token alone: a token whose session ended keeps working until it
   * expires, which is up to the access-token lifetime plus the clock tolerance after the end.
   */
  checkSession?: boolean;
}

const NONE: readonly string[] = [];

export type Authenticate = (token: string, checkSession: boolean) => Promise<AuthContext> | AuthContext;

function assertOptions(options: RequireAuthOptions): void {
  for (const key of ["scopes", "roles"] as const) {
    const list = options[key];
    const bad = (s: unknown) => typeof s !== "string" || s.length === 0 || /\s/.test(s);
    if (list !== undefined && (!Array.isArray(list) || list.some(bad))) {
      const message = `requireAuth option "${key}" must be an array of non-empty strings without spaces.`;
      throw new AuthError("invalid_config", message);
    }
  }
  if (options.checkSession !== undefined && typeof options.checkSession !== "boolean") {
    throw new AuthError("invalid_config", 'requireAuth option "checkSession" must be a boolean.');
  }
}

/**
 * Builds the bearer middleware: options are checked once, here; each request then pays for
 * header parsing, a (cached) signature check and the session check (a Map lookup, or one
 * database read while the change feed cannot vouch).
 * Failures are answered directly with RFC 6750 headers, so the route never runs;
 * `onRefused` sees each of those answers (metrics), never a success.
 */
export function createRequireAuth(
  authenticate: Authenticate,
  realm: string,
  options: RequireAuthOptions = {},
  onRefused?: (error: AuthError) => void,
): RequestHandler {
  assertOptions(options);
  const sendAuthError = (res: Response, error: AuthError, realm: string) => {
    onRefused?.(error);
    answerAuthError(res, error, realm);
  };
  const scopes = options.scopes ?? [];
  const roles = options.roles ?? [];
  const checkSession = options.checkSession ?? true;
  // Most routes ask for no scope: skip building a list of missing ones on every request.
  const needsGrant = scopes.length > 0;
  return (req: Request, res: Response, next: NextFunction) => {
    let token: string | undefined;
    try {
      token = bearerTokenOf(req);
    } catch (error) {
      sendAuthError(res, error as AuthError, realm);
      return;
    }
    if (token === undefined) {
      sendAuthError(res, missingBearer(), realm);
      return;
    }
    const accept = (auth: AuthContext) => {
      const missing = needsGrant ? scopes.filter((s) => !auth.scopes.includes(s)) : NONE;
      if (missing.length > 0 || (roles.length > 0 && !roles.some((r) => auth.roles.includes(r)))) {
        const scope = missing.length > 0 ? missing.join(" ") : roles.join(" ");
        const message = "Your token does not grant access to this resource.";
        sendAuthError(res, new AuthError("insufficient_scope", message, { scope }), realm);
        return;
      }
      req.auth = auth;
      next();
    };
    const reject = (error: unknown) => {
      if (error instanceof AuthError && error.code !== "internal_error" && error.code !== "invalid_config") {
        sendAuthError(res, error, realm);
      } else next(error);
    };
    try {
      const result = authenticate(token, checkSession);
      if (result instanceof Promise) result.then(accept, reject);
      else accept(result);
    } catch (error) {
      reject(error);
    }
  };
}
