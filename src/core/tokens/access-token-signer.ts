import { randomFillSync } from "node:crypto";
import type { Clock } from "../clock.ts";
import { AuthError } from "../errors.ts";
import type { SigningKey } from "../keys/key-ring.ts";
import type { AccessTokenClaims } from "./access-token-verifier.ts";
import { signJws } from "./jws-signature.ts";

/** Who the token is for. */
export interface AccessTokenSubject {
  /** User id. */
  sub: string;
  /** Session id. */
  sid: string;
  /** Space-separated scopes (RFC 9068 §2.2.3). */
  scope?: string;
  roles?: string[];
  /** Authentication methods (RFC 8176). */
  amr?: readonly string[];
}

export interface SignedAccessToken {
  /** The compact JWT. */
  token: string;
  /** Lifetime in seconds, for the `expires_in` response member. */
  expiresIn: number;
  claims: AccessTokenClaims;
}

export type AccessTokenSign = (subject: AccessTokenSubject) => SignedAccessToken;

export interface AccessTokenSignerOptions {
  /** Where the current signing key comes from (a KeyRing). */
  ring: { signingKey(): SigningKey };
  issuer: string;
  audience: string;
  ttlSeconds: number;
  clock: Clock;
}

/**
 * Returns a function that signs access tokens (RFC 9068): header `{alg, typ: "at+jwt", kid}`
 * of the ring's current key, claims `iss, aud, sub, sid, iat, exp, jti` (+ `scope`, `roles`
 * when given). Keys are KeyObjects imported once; nothing here awaits.
 */
export function createAccessTokenSigner(options: AccessTokenSignerOptions): AccessTokenSign {
  const { ring, issuer, audience, ttlSeconds, clock } = options;
  if (typeof ring?.signingKey !== "function")
    throw new AuthError("invalid_config", "ring must be a KeyRing (with signingKey()).");
  if (typeof issuer !== "string" || issuer.length === 0)
    throw new AuthError("invalid_config", "issuer must be a non-empty string.");
  if (typeof audience !== "string" || audience.length === 0)
    throw new AuthError("invalid_config", "audience must be a non-empty string.");
  if (!(Number.isSafeInteger(ttlSeconds) && ttlSeconds > 0))
    throw new AuthError("invalid_config", "ttlSeconds must be a positive whole number of seconds.");
  if (typeof clock?.now !== "function") throw new AuthError("invalid_config", "clock must have a now() method.");
  const newJti = createJtiSource();

  return (subject) => {
    if (
      typeof subject.sub !== "string" ||
      subject.sub.length === 0 ||
      typeof subject.sid !== "string" ||
      subject.sid.length === 0
    ) {
      throw new AuthError("internal_error", "An access token needs a non-empty sub and sid.");
    }
    const key = ring.signingKey();
    const iat = Math.floor(clock.now() / 1000);
    const claims: AccessTokenClaims = {
      iss: issuer,
      aud: audience,
      sub: subject.sub,
      sid: subject.sid,
      iat,
      exp: iat + ttlSeconds,
      jti: newJti(),
    };
    if (subject.scope !== undefined) claims.scope = subject.scope;
    if (subject.roles !== undefined) claims.roles = [...subject.roles];
    if (subject.amr !== undefined) claims.amr = [...subject.amr];
    const signingInput = `${key.encodedHeader}.${Buffer.from(JSON.stringify(claims), "utf8").toString("base64url")}`;
    return { token: `${signingInput}.${signJws(key, signingInput)}`, expiresIn: ttlSeconds, claims };
  };
}

/** 128-bit random jti values, drawn from a pooled buffer to avoid a syscall per token. */
function createJtiSource(): () => string {
  const pool = Buffer.alloc(16 * 256);
  let offset = pool.length;
  return () => {
    if (offset === pool.length) {
      randomFillSync(pool);
      offset = 0;
    }
    const jti = pool.toString("base64url", offset, offset + 16);
    offset += 16;
    return jti;
  };
}
