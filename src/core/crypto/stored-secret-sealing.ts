import { AuthError } from "../errors.ts";
import type { StoredSecret, StoredSecretStore } from "../store/stored-secrets.ts";
import { isSealed, type SecretBox, sealedKeyId } from "./secret-box.ts";

/** Where each stored secret stands with respect to one key-encryption key. */
export interface StoredSecretCensus {
  /** Values still in plain text (written before encryption at rest). */
  plain: StoredSecret[];
  /** Values sealed with this key. */
  sealed: number;
  /** Values sealed with another key, by that key's id. */
  foreign: Map<string, StoredSecret[]>;
}

/** Sorts stored secrets by how they are kept, relative to the key with id `keyId`. */
export function censusOf(secrets: readonly StoredSecret[], keyId: string | undefined): StoredSecretCensus {
  const census: StoredSecretCensus = { plain: [], sealed: 0, foreign: new Map() };
  for (const secret of secrets) {
    const sealedWith = sealedKeyId(secret.value);
    if (sealedWith === undefined) census.plain.push(secret);
    else if (sealedWith === keyId) census.sealed++;
    else census.foreign.set(sealedWith, [...(census.foreign.get(sealedWith) ?? []), secret]);
  }
  return census;
}

/** The ids of every key-encryption key the stored secrets were sealed with. */
export function sealingKeyIds(secrets: readonly StoredSecret[]): Set<string> {
  const ids = new Set<string>();
  for (const secret of secrets) {
    const id = sealedKeyId(secret.value);
    if (id !== undefined) ids.add(id);
  }
  return ids;
}

/**
 * Throws AuthError("invalid_config") naming KEY_ENCRYPTION_KEY when a stored secret was
 * sealed with a key other than `box`'s: the database came with another key (a copy without
 * its key file, or instances configured with different keys).
 */
export function assertSealedWith(secrets: readonly StoredSecret[], box: SecretBox, keySource: string): void {
  const [otherId, affected] = [...censusOf(secrets, box.keyId).foreign][0] ?? [];
  if (otherId === undefined || affected === undefined) return;
  throw new AuthError(
    "invalid_config",
    `KEY_ENCRYPTION_KEY does not match this database: its secrets (${affected.length} of them, e.g. ` +
      `${affected[0]?.context}) were encrypted with key id ${otherId}, but the key in use (${keySource}) is key id ` +
      `${box.keyId}. Set KEY_ENCRYPTION_KEY to the key the database was encrypted with (or restore its ` +
      "key-encryption-key file); every instance sharing a database needs the same key.",
  );
}

/**
 * Encrypts every stored secret still in plain text (written by a version without encryption
 * at rest), in one transaction. Idempotent, and safe when instances start together: each
 * value is sealed once. Returns how many were encrypted.
 */
export function sealPlainSecrets(store: StoredSecretStore, box: SecretBox): Promise<number> {
  return store.rewriteStoredSecrets((secret) =>
    isSealed(secret.value) ? undefined : box.seal(secret.value, secret.context),
  );
}

/**
 * Re-encrypts every stored secret from the key of `from` to the key of `to`, in one
 * transaction: all or nothing. Values already under `to` are left (so an interrupted change
 * can be run again) and plain ones are sealed. A value under a third key stops it, changing
 * nothing. Returns how many values were rewritten.
 */
export function reencryptSecrets(store: StoredSecretStore, from: SecretBox, to: SecretBox): Promise<number> {
  return store.rewriteStoredSecrets((secret) => {
    if (!isSealed(secret.value)) return to.seal(secret.value, secret.context);
    const sealedWith = sealedKeyId(secret.value);
    if (sealedWith === to.keyId) return undefined;
    if (sealedWith !== from.keyId) {
      throw new AuthError(
        "invalid_config",
        `The stored secret ${secret.context} was encrypted with key id ${sealedWith}, which is neither the current ` +
          `key-encryption key (id ${from.keyId}) nor the new one (id ${to.keyId}); nothing was changed. Run this ` +
          "with the key the database was encrypted with.",
      );
    }
    return to.seal(from.open(secret.value, secret.context), secret.context);
  });
}
