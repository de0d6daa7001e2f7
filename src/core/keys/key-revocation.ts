import type { Clock } from "../clock.ts";
import { AuthError } from "../errors.ts";
import type { AsymmetricAlgorithm } from "./key-ring.ts";
import { rotateSigningKeys } from "./key-rotation.ts";
import type { SigningKeyAccess } from "./sealed-key-store.ts";
import { isExpired, isRetired, signingRecordAt } from "./signing-key-choice.ts";

export interface RevokeSigningKeyOptions {
  /** Algorithm of the replacement key, when the removed key was the one signing. */
  algorithm: AsymmetricAlgorithm;
  clock: Clock;
  /** Access-token lifetime (a replacement is made as a rotation that signs at once). */
  accessTokenTtlSeconds: number;
}

export interface RevokedSigningKey {
  kid: string;
  /** False when the key had already expired: nothing changed. */
  removed: boolean;
  /** The key created to sign from now on, when the removed one was signing. */
  replacementKid: string | undefined;
}

/**
 * Emergency removal of a signing key (it leaked, say): the key expires now, so it leaves the
 * JWKS and every token it signed stops verifying on every instance as soon as each reloads
 * its ring (at once through the store's change feed). When it was the key signing now, a new
 * key that signs at once is stored first (a rotation with no publish-ahead), so logins never
 * find no key.
 *
 * Unlike a rotation this breaks the tokens the key signed: their users refresh (their
 * sessions are untouched) or log in again.
 *
 * @throws AuthError("not_found") when no stored key has this kid.
 */
export async function revokeSigningKey(
  store: SigningKeyAccess,
  kid: string,
  options: RevokeSigningKeyOptions,
): Promise<RevokedSigningKey> {
  const now = options.clock.now();
  const records = await store.listSigningKeys();
  const target = records.find((record) => record.kid === kid);
  if (target === undefined) {
    throw new AuthError("not_found", `No signing key has kid "${kid}". List them with \`gatehouse keys list\`.`);
  }
  if (isExpired(target, now)) return { kid, removed: false, replacementKid: undefined };

  let replacementKid: string | undefined;
  const remaining = records.filter((record) => record.kid !== kid);
  if (signingRecordAt(remaining, now)?.alg !== options.algorithm) {
    replacementKid = await rotateSigningKeys(store, {
      algorithm: options.algorithm,
      clock: options.clock,
      accessTokenTtlSeconds: options.accessTokenTtlSeconds,
      publishAheadSeconds: 0,
    });
  }
  await store.updateSigningKey(kid, { retiredAt: isRetired(target, now) ? target.retiredAt : now, expiresAt: now });
  return { kid, removed: true, replacementKid };
}
