import type { Clock } from "../clock.ts";
import { AuthError } from "../errors.ts";
import { generateSigningKeyRecord, isAsymmetricAlgorithm } from "./key-material.ts";
import type { AsymmetricAlgorithm } from "./key-ring.ts";
import type { SigningKeyAccess } from "./sealed-key-store.ts";
import { isExpired, isRetired } from "./signing-key-choice.ts";

/** Clock skew verifiers tolerate (CONTRACT §3: at most 60 s); a retired key outlives its last token by this much. */
export const CLOCK_SKEW_MS = 60_000;

export interface RotateSigningKeysOptions {
  algorithm: AsymmetricAlgorithm;
  clock: Clock;
  /** Access-token lifetime: the old key stays published this long (+ 60 s) after it stops signing. */
  accessTokenTtlSeconds: number;
  /** Seconds between publishing the new key and its first signature (the `--publish-ahead` setting, core/config). */
  publishAheadSeconds: number;
}

/** When a key that stops signing at `retiredAt` may leave the JWKS: after its last token expired. */
export function retirementExpiry(retiredAt: number, accessTokenTtlSeconds: number): number {
  return retiredAt + accessTokenTtlSeconds * 1000 + CLOCK_SKEW_MS;
}

/**
 * Rotates the signing key without breaking any verifier: the new key is stored now (so it
 * is published in the JWKS at once) and activates `publishAheadSeconds` later; every key
 * that would still sign after that moment is retired at it, and expires (leaves the JWKS)
 * once its last token has expired: retirement + access-token TTL + 60 s skew.
 *
 * Running instances pick the new key up on their next ring reload, well inside the
 * publish-ahead window. Pass the store through `sealedSigningKeys` so the new private key is
 * encrypted at rest.
 *
 * @returns the new key's kid.
 */
export async function rotateSigningKeys(store: SigningKeyAccess, options: RotateSigningKeysOptions): Promise<string> {
  const { algorithm, clock, accessTokenTtlSeconds, publishAheadSeconds } = options;
  if (!isAsymmetricAlgorithm(algorithm)) {
    throw new AuthError(
      "invalid_config",
      `signing algorithm must be "EdDSA" or "ES256" (got ${JSON.stringify(String(algorithm))}).`,
    );
  }
  if (!(Number.isFinite(accessTokenTtlSeconds) && accessTokenTtlSeconds > 0)) {
    throw new AuthError("invalid_config", "accessTokenTtlSeconds must be a positive number of seconds.");
  }
  if (!(Number.isFinite(publishAheadSeconds) && publishAheadSeconds >= 0)) {
    throw new AuthError("invalid_config", "publishAheadSeconds must be zero or a positive number of seconds.");
  }

  const now = clock.now();
  const existing = await store.listSigningKeys();
  const next = generateSigningKeyRecord(algorithm, now);
  next.activatesAt = now + publishAheadSeconds * 1000;
  await store.insertSigningKey(next);

  const retiredAt = next.activatesAt;
  for (const key of existing) {
    // Only keys that could still sign once the new one activates need retiring.
    if (isExpired(key, now) || isRetired(key, retiredAt)) continue;
    await store.updateSigningKey(key.kid, { retiredAt, expiresAt: retirementExpiry(retiredAt, accessTokenTtlSeconds) });
  }
  return next.kid;
}
