import type { Clock } from "../clock.ts";
import { AuthError, invalidToken } from "../errors.ts";
import type { VerificationKey } from "../keys/key-ring.ts";
import { isStrictBase64url } from "./base64url.ts";
import { verifyJws } from "./jws-signature.ts";

/** Claims of a verified access token (RFC 9068 plus Gatehouse's `sid`). */
export interface AccessTokenClaims {
  iss: string;
  aud: string | string[];
  /** User id. */
  sub: string;
  /** Session id. */
  sid: string;
  iat: number;
  exp: number;
  jti: string;
  nbf?: number;
  scope?: string;
  roles?: string[];
  /** How the user proved it (RFC 8176), e.g. ["pwd", "otp", "mfa"]. */
  amr?: string[];
  [claim: string]: unknown;
}

/** Verifies a compact access token synchronously; returns its claims or throws AuthError("invalid_token"). */
export type AccessTokenVerify = (token: string) => AccessTokenClaims;

export interface AccessTokenVerifierOptions {
  /** Key lookup by kid, e.g. `(kid) => ring.resolve(kid)`. A Map lookup only: kid is attacker input. */
  resolveKey: (kid: string) => VerificationKey | undefined;
  issuer: string;
  audience: string;
  clock: Clock;
  /** Allowed clock skew for exp/nbf/iat. Default 60, at most 60 (CONTRACT §3). */
  clockToleranceSeconds?: number;
  /**
   * The longest lifetime (`exp - iat`) the issuer grants, in seconds; a token claiming more (plus the
   * tolerance) is refused even when correctly signed, so a leaked key cannot mint far-future tokens.
   * Default 86400 (one day, the longest access-token lifetime Gatehouse issues), at most that.
   */
  maxLifetimeSeconds?: number;
  /** Longer tokens are rejected before any parsing. Default 8192. */
  maxTokenBytes?: number;
  /** Cache of verified tokens. Default `{ maxEntries: 10_000 }`; `false` turns it off. */
  cache?: { maxEntries: number } | false;
}

const MAX_TOLERANCE_SECONDS = 60;
const MAX_LIFETIME_SECONDS = 86_400;
const MAX_KID_LENGTH = 256;
/** Distinct valid headers seen recently (normally one per key); bounded because headers are attacker input. */
const HEADER_CACHE_ENTRIES = 64;

interface CachedClaims {
  claims: AccessTokenClaims;
  /** The cache hit is valid while now < this (exp + tolerance, in ms). */
  validUntil: number;
  /** The key that verified it: a hit counts only while the ring still resolves this kid. */
  kid: string;
}

interface TrustedHeader {
  kid: string;
  alg: string;
}

/**
 * Creates a synchronous access-token verifier following RFC 8725 and RFC 9068:
 *
 * - at most `maxTokenBytes`; exactly three segments of strict unpadded base64url (JWE's five
 *   segments are refused); header and payload are JSON objects;
 * - `kid` (a string of at most 256 characters) selects the key by a Map lookup only, and
 *   `alg` must equal the algorithm pinned to that key, so `none`, HS256-with-a-public-key and
 *   any mismatch fail; `jku`, `x5u`, `jwk`, `x5c` are ignored, never fetched; any `crit`
 *   fails; `typ` must be `at+jwt` (or `application/at+jwt`);
 * - the signature is checked before any claim is read;
 * - `exp` is required; `exp`, `iat`, `nbf` are finite numbers; now < exp + tolerance,
 *   nbf and iat ≤ now + tolerance; `iss` equals the issuer; `aud` is or contains the
 *   audience; `sub`, `sid`, `jti` are non-empty strings; `scope` a string and `roles` an
 *   array of strings when present.
 *
 * Options are validated here, once (AuthError "invalid_config" naming the option).
 *
 * Verified tokens are cached by their exact text in a bounded Map (oldest evicted first)
 * until exp + tolerance; returned claims are frozen because cache hits share them. The cache
 * answers "is this token authentic and unexpired" only: it never replaces the session
 * revocation check callers do for an ended session. A hit still asks `resolveKey` for the
 * token's kid (a Map lookup), so a key removed from the ring stops its tokens at once, cached
 * ones included.
 */
export function createAccessTokenVerifier(options: AccessTokenVerifierOptions): AccessTokenVerify {
  const { resolveKey, issuer, audience, clock } = options;
  const toleranceSeconds = options.clockToleranceSeconds ?? MAX_TOLERANCE_SECONDS;
  const maxTokenBytes = options.maxTokenBytes ?? 8192;
  const maxLifetimeSeconds = options.maxLifetimeSeconds ?? MAX_LIFETIME_SECONDS;
  const cacheOption = options.cache ?? { maxEntries: 10_000 };
  if (typeof resolveKey !== "function") throw config("resolveKey must be a function from kid to key.");
  if (typeof issuer !== "string" || issuer.length === 0) throw config("issuer must be a non-empty string.");
  if (typeof audience !== "string" || audience.length === 0) throw config("audience must be a non-empty string.");
  if (typeof clock?.now !== "function") throw config("clock must have a now() method.");
  if (typeof toleranceSeconds !== "number" || !(toleranceSeconds >= 0 && toleranceSeconds <= MAX_TOLERANCE_SECONDS)) {
    throw config(`clockToleranceSeconds must be between 0 and ${MAX_TOLERANCE_SECONDS}.`);
  }
  if (
    !Number.isSafeInteger(maxLifetimeSeconds) ||
    maxLifetimeSeconds < 1 ||
    maxLifetimeSeconds > MAX_LIFETIME_SECONDS
  ) {
    throw config(`maxLifetimeSeconds must be a whole number between 1 and ${MAX_LIFETIME_SECONDS}.`);
  }
  if (!Number.isSafeInteger(maxTokenBytes) || maxTokenBytes < 256 || maxTokenBytes > 65_536) {
    throw config("maxTokenBytes must be a whole number between 256 and 65536.");
  }
  if (
    cacheOption !== false &&
    (typeof cacheOption !== "object" || !Number.isSafeInteger(cacheOption.maxEntries) || cacheOption.maxEntries < 1)
  ) {
    throw config("cache must be false or { maxEntries: a positive whole number }.");
  }

  const toleranceMs = toleranceSeconds * 1000;
  const headers = new Map<string, TrustedHeader>();

  const verifyUncached = (token: string): CachedClaims => {
    if (typeof token !== "string") throw invalidToken("The access token must be a string.", "malformed");
    if (token.length > maxTokenBytes)
      throw invalidToken(`The access token is longer than ${maxTokenBytes} bytes.`, "malformed");
    const dot1 = token.indexOf(".");
    const dot2 = dot1 === -1 ? -1 : token.indexOf(".", dot1 + 1);
    if (dot2 === -1)
      throw invalidToken(
        "The access token is malformed: expected a compact JWS with three dot-separated segments.",
        "malformed",
      );
    if (token.indexOf(".", dot2 + 1) !== -1) {
      throw invalidToken(
        token.split(".").length === 5
          ? "Encrypted tokens (JWE) are not accepted: send the signed access token."
          : "The access token is malformed: expected a compact JWS with three dot-separated segments.",
        "malformed",
      );
    }

    const headerText = token.slice(0, dot1);
    const header = headers.get(headerText) ?? trustHeader(headerText, headers);
    const key = resolveKey(header.kid);
    if (key === undefined)
      throw invalidToken("The access token was signed with an unknown or expired key. Log in again.", "unknown_key");
    if (key.alg !== header.alg)
      throw invalidToken("The access token's algorithm does not match its key.", "wrong_algorithm");

    if (!isStrictBase64url(token, dot1 + 1, dot2))
      throw invalidToken("The access token payload is not strict unpadded base64url.", "malformed");
    if (!isStrictBase64url(token, dot2 + 1, token.length))
      throw invalidToken("The access token signature is not strict unpadded base64url.", "malformed");
    if (!verifyJws(key, token.slice(0, dot2), Buffer.from(token.slice(dot2 + 1), "base64url")))
      throw invalidToken("The access token signature is invalid.", "bad_signature");

    const claims = parseObject(token.slice(dot1 + 1, dot2), "payload"); // strictness checked above
    const now = clock.now();
    const validUntil = checkClaims(claims, now);
    return { claims: freezeClaims(claims), validUntil, kid: header.kid };
  };

  /** Every claim rule after the signature; returns when a cache hit stops being valid. */
  const checkClaims = (claims: Record<string, unknown>, now: number): number => {
    const { exp, nbf, iat, iss, aud } = claims;
    if (typeof exp !== "number" || !Number.isFinite(exp))
      throw invalidToken("The access token has no valid exp (expiry) claim.", "bad_claims");
    if (typeof iat !== "number" || !Number.isFinite(iat))
      throw invalidToken("The access token has no valid iat (issued-at) claim.", "bad_claims");
    if (nbf !== undefined && (typeof nbf !== "number" || !Number.isFinite(nbf)))
      throw invalidToken("The access token's nbf claim is not a number.", "bad_claims");
    const validUntil = exp * 1000 + toleranceMs;
    if (now >= validUntil) throw invalidToken("The access token has expired. Refresh it or log in again.", "expired");
    if (nbf !== undefined && nbf * 1000 > now + toleranceMs)
      throw invalidToken("The access token is not valid yet (nbf is in the future).", "not_yet_valid");
    if (iat * 1000 > now + toleranceMs)
      throw invalidToken("The access token was issued in the future (iat); check the clocks.", "not_yet_valid");
    if (exp - iat > maxLifetimeSeconds + toleranceSeconds)
      throw invalidToken(
        "The access token claims a longer lifetime than this issuer grants (exp - iat).",
        "bad_claims",
      );
    if (iss !== issuer) throw invalidToken("The access token was issued by someone else (iss).", "wrong_issuer");
    if (typeof aud === "string" ? aud !== audience : !isAudienceList(aud, audience))
      throw invalidToken("The access token is meant for another audience (aud).", "wrong_audience");
    if (!isNonEmptyString(claims["sub"])) throw invalidToken("The access token has no subject (sub).", "bad_claims");
    if (!isNonEmptyString(claims["sid"])) throw invalidToken("The access token has no session id (sid).", "bad_claims");
    if (!isNonEmptyString(claims["jti"])) throw invalidToken("The access token has no token id (jti).", "bad_claims");
    const { scope, roles } = claims;
    if (scope !== undefined && typeof scope !== "string")
      throw invalidToken("The access token's scope claim is not a string.", "bad_claims");
    if (roles !== undefined && !(Array.isArray(roles) && roles.every((role) => typeof role === "string"))) {
      throw invalidToken("The access token's roles claim is not a list of strings.", "bad_claims");
    }
    const amr = claims["amr"];
    if (amr !== undefined && !(Array.isArray(amr) && amr.every((method) => typeof method === "string"))) {
      throw invalidToken("The access token's amr claim is not a list of strings.");
    }
    return validUntil;
  };

  if (cacheOption === false) return (token) => verifyUncached(token).claims;

  const maxEntries = cacheOption.maxEntries;
  const cache = new Map<string, CachedClaims>();
  return (token) => {
    const hit = cache.get(token);
    if (hit !== undefined) {
      if (clock.now() < hit.validUntil && resolveKey(hit.kid) !== undefined) return hit.claims;
      cache.delete(token);
    }
    const verified = verifyUncached(token);
    if (cache.size >= maxEntries) cache.delete(cache.keys().next().value!);
    cache.set(token, verified);
    return verified.claims;
  };
}

/** Validates a header segment not seen before and remembers it (bounded). Throws on anything unacceptable. */
function trustHeader(headerText: string, seen: Map<string, TrustedHeader>): TrustedHeader {
  if (!isStrictBase64url(headerText))
    throw invalidToken("The access token header is not strict unpadded base64url.", "malformed");
  const header = parseObject(headerText, "header");
  const { alg, kid, typ, crit } = header;
  if (typeof alg !== "string") throw invalidToken("The access token header has no alg.", "malformed");
  if (alg.toLowerCase() === "none")
    throw invalidToken('Unsigned tokens (alg "none") are not accepted.', "wrong_algorithm");
  if (crit !== undefined)
    throw invalidToken("The access token requires header extensions (crit) that are not supported.", "malformed");
  if (typeof typ !== "string" || !isAccessTokenType(typ))
    throw invalidToken('The token is not an access token: typ must be "at+jwt".', "wrong_type");
  if (kid === undefined) throw invalidToken("The access token header has no key id (kid).", "malformed");
  if (typeof kid !== "string" || kid.length === 0 || kid.length > MAX_KID_LENGTH)
    throw invalidToken("The access token's key id (kid) is invalid.", "malformed");
  const trusted = { kid, alg };
  if (seen.size >= HEADER_CACHE_ENTRIES) seen.delete(seen.keys().next().value!);
  seen.set(headerText, trusted);
  return trusted;
}

function isAccessTokenType(typ: string): boolean {
  const lower = typ.toLowerCase();
  return lower === "at+jwt" || lower === "application/at+jwt";
}

/** Decodes an already strictness-checked segment as a JSON object. */
function parseObject(segment: string, part: "header" | "payload"): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(segment, "base64url").toString("utf8"));
  } catch {
    throw invalidToken(`The access token ${part} is not valid JSON.`, "malformed");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw invalidToken(`The access token ${part} is not a JSON object.`, "malformed");
  return value as Record<string, unknown>;
}

function isAudienceList(aud: unknown, audience: string): boolean {
  if (!Array.isArray(aud)) return false;
  let found = false;
  for (const entry of aud) {
    if (typeof entry !== "string") return false;
    if (entry === audience) found = true;
  }
  return found;
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === "string" && value.length > 0;
}

/** Frozen so a caller cannot alter what later cache hits return. */
function freezeClaims(claims: Record<string, unknown>): AccessTokenClaims {
  if (Array.isArray(claims["aud"])) Object.freeze(claims["aud"]);
  if (Array.isArray(claims["roles"])) Object.freeze(claims["roles"]);
  if (Array.isArray(claims["amr"])) Object.freeze(claims["amr"]);
  return Object.freeze(claims) as AccessTokenClaims;
}

function config(message: string): AuthError {
  return new AuthError("invalid_config", message);
}
