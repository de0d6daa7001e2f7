import { isSealed } from "../crypto/secret-box.ts";
import type { SecretBox } from "../crypto/secret-box.ts";
import { signingKeyContext } from "../crypto/secret-contexts.ts";
import { AuthError } from "../errors.ts";
import type { SigningKeyRecord, StoreOps } from "../store/store.ts";

/** What the key ring and rotation use of a store. */
export type SigningKeyAccess = Pick<
  StoreOps,
  "listSigningKeys" | "insertSigningKey" | "updateSigningKey" | "getSetting" | "putSettingIfAbsent"
>;

/**
 * The signing keys of `store` with their private JWKs encrypted at rest: sealed by `box`
 * (context `signing_key:<kid>`) when inserted, opened when listed. Only the key ring and
 * rotation see the plain JWK, and the ring turns it into a KeyObject once per load.
 *
 * A private key stored in plain text is refused: start-up encrypts every such value before
 * the keys are loaded, so one appearing later was written by an older version.
 */
export function sealedSigningKeys(store: SigningKeyAccess, box: SecretBox): SigningKeyAccess {
  return {
    listSigningKeys: async () => (await store.listSigningKeys()).map((record) => opened(record, box)),
    insertSigningKey: (key) =>
      store.insertSigningKey({ ...key, privateJwk: box.seal(key.privateJwk, signingKeyContext(key.kid)) }),
    updateSigningKey: (kid, changes) => store.updateSigningKey(kid, changes),
    getSetting: (name) => store.getSetting(name),
    putSettingIfAbsent: (name, value) => store.putSettingIfAbsent(name, value),
  };
}

function opened(record: SigningKeyRecord, box: SecretBox): SigningKeyRecord {
  if (!isSealed(record.privateJwk)) {
    throw new AuthError(
      "unavailable",
      `The private key of signing key ${record.kid} is stored unencrypted (written by an older version of ` +
        "Gatehouse). Restart Gatehouse: it encrypts such keys at start-up.",
    );
  }
  return { ...record, privateJwk: box.open(record.privateJwk, signingKeyContext(record.kid)) };
}
