import type { JsonWebKey } from "node:crypto";
import type { Clock } from "../clock.ts";
import { AuthError, isAuthError } from "../errors.ts";
import {
  type AccessTokenClaims,
  type AccessTokenVerifierOptions,
  createAccessTokenVerifier,
} from "../tokens/access-token-verifier.ts";
import { importPublicJwk, isAsymmetricAlgorithm } from "./key-material.ts";
import type { VerificationKey } from "./key-ring.ts";

/** JWKS documents larger than this are refused: a real one holds a handful of keys. */
const MAX_JWKS_BYTES = 256 * 1024;
const MAX_KID_LENGTH = 256;
/** With no keys at all, a failed fetch is retried at most this often. */
const FAILURE_RETRY_MS = 2000;

export interface RemoteKeySetOptions {
  /** The issuer's JWKS URL (http or https). Keys come from here only, never from a token. */
  jwksUrl: string;
  /** Abort a fetch after this long. Default 5000. */
  fetchTimeoutMs?: number;
  /** At most one refresh for unknown kids per this period. Default 30000. */
  cooldownMs?: number;
  /** Refresh in the background when the keys are older than this. Default 600000 (10 minutes). */
  maxAgeMs?: number;
  clock: Clock;
  /** Injectable fetch (tests, proxies). Default: the global fetch. */
  fetch?: typeof fetch;
}

export interface RemoteKeySet {
  /** The key for `kid` from the last successful fetch (sync). Stale keys start a background refresh. */
  resolve(kid: string): VerificationKey | undefined;
  /**
   * Fetches the JWKS now (concurrent calls share one fetch). On failure the previous keys stay
   * in use; it rejects with AuthError("unavailable") only when there are none.
   */
  refresh(): Promise<void>;
  /** Resolves once keys have been fetched (fetching them if needed). */
  ready(): Promise<void>;
  /**
   * Refreshes for a token whose kid is unknown, at most once per cooldown (waits for a refresh
   * already under way). Returns whether a refresh ran.
   */
  refreshForUnknownKid(): Promise<boolean>;
}

/**
 * A cached, self-refreshing copy of a remote Gatehouse's JWKS for resource servers without
 * a database. Each key is imported once with node:crypto and keeps the `alg` its JWK
 * declares; keys without `kid` or `alg`, with `use` other than "sig", with HS256, "none" or
 * any algorithm other than EdDSA and ES256, or whose curve does not match, are skipped.
 */
export function createRemoteKeySet(options: RemoteKeySetOptions): RemoteKeySet {
  const { clock } = options;
  const url = parseJwksUrl(options.jwksUrl);
  const fetchTimeoutMs = options.fetchTimeoutMs ?? 5000;
  const cooldownMs = options.cooldownMs ?? 30_000;
  const maxAgeMs = options.maxAgeMs ?? 600_000;
  const fetchImpl = options.fetch ?? globalThis.fetch;
  if (!(Number.isFinite(fetchTimeoutMs) && fetchTimeoutMs > 0))
    throw config("fetchTimeoutMs must be a positive number of milliseconds.");
  if (!(Number.isFinite(cooldownMs) && cooldownMs >= 0))
    throw config("cooldownMs must be zero or a positive number of milliseconds.");
  if (!(Number.isFinite(maxAgeMs) && maxAgeMs > 0)) throw config("maxAgeMs must be a positive number of milliseconds.");
  if (typeof clock?.now !== "function") throw config("clock must have a now() method.");
  if (typeof fetchImpl !== "function") throw config("fetch must be a function (Node 18+ has one built in).");

  let keys = new Map<string, VerificationKey>();
  let fetchedAt: number | undefined;
  let lastAttemptAt = Number.NEGATIVE_INFINITY;
  let inFlight: Promise<void> | undefined;
  /** Why the last fetch failed while no keys were cached; answered again for a moment instead of refetching. */
  let lastFailure: AuthError | undefined;

  const load = async (): Promise<void> => {
    lastAttemptAt = clock.now();
    try {
      keys = importKeys(await download(url, fetchImpl, fetchTimeoutMs));
      fetchedAt = clock.now();
      lastFailure = undefined;
    } catch (error) {
      if (fetchedAt !== undefined) return; // keep serving the keys we have
      lastFailure = new AuthError(
        "unavailable",
        `Could not load the JWKS from ${url.href}: ${reason(error)}. Check the URL and that the issuer is up.`,
        {
          cause: error,
        },
      );
      throw lastFailure;
    }
  };

  const refresh = (): Promise<void> => {
    inFlight ??= load().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  };

  return {
    resolve(kid) {
      if (fetchedAt !== undefined && inFlight === undefined) {
        const now = clock.now();
        if (now - fetchedAt >= maxAgeMs && now - lastAttemptAt >= cooldownMs) refresh().catch(() => undefined);
      }
      return keys.get(kid);
    },
    refresh,
    ready() {
      if (fetchedAt !== undefined) return Promise.resolve();
      // With the issuer down, do not refetch on every request: repeat the failure briefly.
      if (
        lastFailure !== undefined &&
        inFlight === undefined &&
        clock.now() - lastAttemptAt < Math.min(cooldownMs, FAILURE_RETRY_MS)
      ) {
        return Promise.reject(lastFailure);
      }
      return refresh();
    },
    async refreshForUnknownKid() {
      if (inFlight !== undefined) {
        await inFlight;
        return true;
      }
      if (clock.now() - lastAttemptAt < cooldownMs) return false;
      await refresh();
      return true;
    },
  };
}

export interface RemoteVerifierOptions
  extends Omit<RemoteKeySetOptions, "clock">,
    Pick<AccessTokenVerifierOptions, "clockToleranceSeconds" | "maxTokenBytes" | "maxLifetimeSeconds" | "cache"> {
  /** Expected `iss`. */
  issuer: string;
  /** Expected `aud` (this resource server). */
  audience: string;
  clock: Clock;
}

export interface RemoteVerifier {
  /**
   * Verifies an access token (all rules of createAccessTokenVerifier). Synchronous work when
   * the kid is known; on an unknown kid the JWKS is refetched (at most once per cooldown)
   * and the token checked again. Throws AuthError("invalid_token"), or "unavailable" when
   * no keys could ever be fetched.
   */
  verify(token: string): Promise<AccessTokenClaims>;
  readonly keySet: RemoteKeySet;
}

/**
 * Verifies Gatehouse access tokens on a resource server that only knows the issuer's JWKS URL.
 *
 * @example
 * const verifier = createRemoteVerifier({ jwksUrl: "https://auth.example.com/.well-known/jwks.json", issuer: "gatehouse", audience: "gatehouse", clock: systemClock });
 * const claims = await verifier.verify(token);
 */
export function createRemoteVerifier(options: RemoteVerifierOptions): RemoteVerifier {
  const { issuer, audience, clock, clockToleranceSeconds, maxTokenBytes, maxLifetimeSeconds, cache, ...keySetOptions } =
    options;
  const keySet = createRemoteKeySet({ ...keySetOptions, clock });
  let unknownKid = false;
  const verifySync = createAccessTokenVerifier({
    resolveKey: (kid) => {
      const key = keySet.resolve(kid);
      if (key === undefined) unknownKid = true;
      return key;
    },
    issuer,
    audience,
    clock,
    ...(clockToleranceSeconds === undefined ? {} : { clockToleranceSeconds }),
    ...(maxTokenBytes === undefined ? {} : { maxTokenBytes }),
    ...(maxLifetimeSeconds === undefined ? {} : { maxLifetimeSeconds }),
    ...(cache === undefined ? {} : { cache }),
  });

  // verifySync never awaits, so the flag belongs to exactly one attempt.
  const attempt = (token: string): { claims: AccessTokenClaims } | { unknownKid: AuthError } => {
    unknownKid = false;
    try {
      return { claims: verifySync(token) };
    } catch (error) {
      if (unknownKid && isAuthError(error)) return { unknownKid: error };
      throw error;
    }
  };

  return {
    keySet,
    async verify(token) {
      await keySet.ready();
      const first = attempt(token);
      if ("claims" in first) return first.claims;
      if (!(await keySet.refreshForUnknownKid())) throw first.unknownKid;
      const second = attempt(token);
      if ("claims" in second) return second.claims;
      throw second.unknownKid;
    },
  };
}

function parseJwksUrl(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw config("jwksUrl must be an absolute http(s) URL, e.g. https://auth.example.com/.well-known/jwks.json.");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:")
    throw config("jwksUrl must use https (or http on a private network).");
  if (url.username !== "" || url.password !== "") throw config("jwksUrl must not contain credentials.");
  return url;
}

async function download(url: URL, fetchImpl: typeof fetch, timeoutMs: number): Promise<unknown> {
  const response = await fetchImpl(url, {
    signal: AbortSignal.timeout(timeoutMs),
    redirect: "error",
    headers: { accept: "application/json" },
  });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const declared = Number(response.headers.get("content-length"));
  if (declared > MAX_JWKS_BYTES) throw new Error("response too large");
  const text = await response.text();
  if (text.length > MAX_JWKS_BYTES) throw new Error("response too large");
  try {
    return JSON.parse(text);
  } catch {
    throw new Error("response is not JSON");
  }
}

function importKeys(document: unknown): Map<string, VerificationKey> {
  const list = (document as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(list)) throw new Error('response has no "keys" array');
  const keys = new Map<string, VerificationKey>();
  for (const entry of list) {
    if (typeof entry !== "object" || entry === null) continue;
    const jwk = entry as JsonWebKey;
    const { kid, alg, use } = jwk;
    if (typeof kid !== "string" || kid.length === 0 || kid.length > MAX_KID_LENGTH) continue;
    if (use !== undefined && use !== "sig") continue;
    if (!isAsymmetricAlgorithm(alg)) continue; // refuses none, HS*, and algorithms Gatehouse does not use
    if (keys.has(kid)) continue; // first one wins: a duplicate kid must not swap keys
    const key = importPublicJwk(jwk, alg);
    if (key !== undefined) keys.set(kid, Object.freeze({ kid, alg, key }));
  }
  return keys;
}

function reason(error: unknown): string {
  if (error instanceof Error) return error.name === "TimeoutError" ? "timed out" : error.message;
  return String(error);
}

function config(message: string): AuthError {
  return new AuthError("invalid_config", message);
}
