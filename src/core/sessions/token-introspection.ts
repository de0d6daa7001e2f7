import type { Clock } from "../clock.ts";
import { AuthError } from "../errors.ts";
import type { Store } from "../store/store.ts";
import type { AccessTokenClaims } from "../tokens/access-token-verifier.ts";
import { hashRefreshToken, isWellFormedRefreshToken } from "./refresh-token.ts";
import { isSessionLive } from "./session-service.ts";

/** The two kinds of token Gatehouse issues, named as RFC 7009 §2.1 and RFC 7662 §2.1 name them. */
export type TokenKind = "access_token" | "refresh_token";

/** RFC 7662 §2.2: what is known about a token that is live right now. */
export interface ActiveToken {
  active: true;
  token_type: TokenKind;
  /** User id. */
  sub: string;
  /** Session id. */
  sid: string;
  iss: string;
  aud: string | string[];
  /** Seconds since the epoch. For a refresh token: when its session ends, unless it is used first. */
  exp: number;
  iat: number;
  nbf?: number;
  jti?: string;
  scope?: string;
  roles?: string[];
}

/** Anything not live gets this and nothing more, so the answer never tells why (RFC 7662 §2.2). */
export interface InactiveToken {
  active: false;
}

export type Introspection = ActiveToken | InactiveToken;

export const INACTIVE: InactiveToken = Object.freeze({ active: false });

export interface TokenIntrospectionParts {
  /** An access token's claims when its signature, claims and session are all live; throws invalid_token otherwise. */
  liveAccessClaims(token: string): Promise<AccessTokenClaims>;
  store: Pick<Store, "findRefreshToken" | "findSession" | "findUserById">;
  clock: Clock;
  /** `iss` of this server; also the audience of its refresh tokens, which only this server redeems. */
  issuer: string;
}

/**
 * RFC 7662 introspection of either kind of token, without consuming it. The two kinds cannot be
 * mistaken for one another (a refresh token is 43 base64url characters, an access token a JWS
 * with dots), so the caller's `token_type_hint` is not needed to find the token.
 *
 * A database failure is thrown (`unavailable`), never answered as inactive: "I could not tell"
 * and "this token is dead" are different answers.
 */
export async function introspectToken(parts: TokenIntrospectionParts, token: string): Promise<Introspection> {
  return isWellFormedRefreshToken(token) ? introspectRefreshToken(parts, token) : introspectAccessToken(parts, token);
}

async function introspectAccessToken(parts: TokenIntrospectionParts, token: string): Promise<Introspection> {
  let claims: AccessTokenClaims;
  try {
    claims = await parts.liveAccessClaims(token);
  } catch (error) {
    if (error instanceof AuthError && error.code === "invalid_token") return INACTIVE;
    throw error;
  }
  const answer: ActiveToken = {
    active: true,
    token_type: "access_token",
    sub: claims.sub,
    sid: claims.sid,
    iss: claims.iss,
    aud: claims.aud,
    exp: claims.exp,
    iat: claims.iat,
    jti: claims.jti,
  };
  if (claims.nbf !== undefined) answer.nbf = claims.nbf;
  if (claims.scope !== undefined) answer.scope = claims.scope;
  if (claims.roles !== undefined) answer.roles = [...claims.roles];
  return answer;
}

/**
 * A refresh token is active while it is the session's current one (not yet rotated), the session
 * is live and its user is not disabled. A rotated-out token is inactive even inside the grace
 * window: it only yields the successor that already exists, it is not a credential of its own.
 */
async function introspectRefreshToken(parts: TokenIntrospectionParts, token: string): Promise<Introspection> {
  const row = await parts.store.findRefreshToken(hashRefreshToken(token));
  if (!row || row.rotatedAt !== null) return INACTIVE;
  const session = await parts.store.findSession(row.sessionId);
  if (!session || !isSessionLive(session, parts.clock.now())) return INACTIVE;
  const user = await parts.store.findUserById(session.userId);
  if (!user || user.disabledAt !== null) return INACTIVE;
  return {
    active: true,
    token_type: "refresh_token",
    sub: user.id,
    sid: session.id,
    iss: parts.issuer,
    aud: parts.issuer,
    exp: Math.floor(Math.min(session.idleExpiresAt, session.absoluteExpiresAt) / 1000),
    iat: Math.floor(row.createdAt / 1000),
  };
}
