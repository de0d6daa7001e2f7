import type { RequestHandler } from "express";
import { toAuthContext } from "./core/auth-service.ts";
import { type Clock, systemClock } from "./core/clock.ts";
import { AuthError } from "./core/errors.ts";
import { createRemoteVerifier, type RemoteVerifier } from "./core/keys/remote-key-set.ts";
import type { AccessTokenClaims } from "./core/tokens/access-token-verifier.ts";
import { createRequireAuth, type RequireAuthOptions } from "./express/require-auth.ts";
import "./express/request-auth.ts";

// The `gatehouse/resource-server` entry: everything an API needs to trust a Gatehouse server's
// tokens, and nothing that opens a database or hashes a password, so an app that imports only
// this needs neither better-sqlite3, pg nor @node-rs/argon2 installed.
export type { AuthContext } from "./core/auth-service.ts";
export { ManualClock, systemClock } from "./core/clock.ts";
export type { Clock } from "./core/clock.ts";
export { AuthError, isAuthError } from "./core/errors.ts";
export type { AuthErrorCode } from "./core/errors.ts";
export type { RemoteVerifier } from "./core/keys/remote-key-set.ts";
export type { AccessTokenClaims } from "./core/tokens/access-token-verifier.ts";
export type { RequireAuthOptions } from "./express/require-auth.ts";

export interface ResourceServerOptions {
  /** The Gatehouse server's JWKS, e.g. `https://auth.example.com/.well-known/jwks.json`. */
  jwksUrl: string;
  /** Expected `iss` (the Gatehouse server's `ISSUER`, default "gatehouse"). */
  issuer: string;
  /** Expected `aud` (the Gatehouse server's `AUDIENCE`, default "gatehouse"). */
  audience: string;
  /** `realm` in WWW-Authenticate. Default "gatehouse". */
  realm?: string;
  /** At most one JWKS refetch per this many ms for unknown kids. Default 30000. */
  cooldownMs?: number;
  clock?: Clock;
  /** Injectable fetch (tests, proxies). */
  fetch?: typeof fetch;
}

export interface ResourceServer {
  /** Bearer middleware like `Gatehouse.requireAuth`, verifying against the remote JWKS. */
  requireAuth(options?: Omit<RequireAuthOptions, "checkSession">): RequestHandler;
  /** Verifies a token against the remote JWKS or throws AuthError. */
  verify(token: string): Promise<AccessTokenClaims>;
  readonly verifier: RemoteVerifier;
}

/**
 * For an API that trusts a Gatehouse server but has no database of its own: tokens are
 * verified with keys from the configured JWKS URL (cached, refetched on an unknown `kid`
 * at most once per cooldown; never fetched from anything a token says).
 *
 * @example
 * import { createResourceServer } from "gatehouse/resource-server";
 *
 * const gate = createResourceServer({
 *   jwksUrl: "https://auth.example.com/.well-known/jwks.json",
 *   issuer: "gatehouse",
 *   audience: "gatehouse",
 * });
 * app.get("/api/orders", gate.requireAuth(), (req, res) => res.json(req.auth));
 */
export function createResourceServer(options: ResourceServerOptions): ResourceServer {
  const verifier = createRemoteVerifier({
    jwksUrl: options.jwksUrl,
    issuer: options.issuer,
    audience: options.audience,
    clock: options.clock ?? systemClock,
    ...(options.cooldownMs === undefined ? {} : { cooldownMs: options.cooldownMs }),
    ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
  });
  const realm = options.realm ?? "gatehouse";
  return {
    verifier,
    verify: (token) => verifier.verify(token),
    requireAuth: (requireOptions = {}) => {
      if ((requireOptions as RequireAuthOptions).checkSession) {
        throw new AuthError(
          "invalid_config",
          'requireAuth option "checkSession" needs the Gatehouse database; a resource server cannot use it.',
        );
      }
      return createRequireAuth(async (token) => toAuthContext(await verifier.verify(token)), realm, requireOptions);
    },
  };
}
