import { existsSync } from "node:fs";
import { AuthError } from "../errors.ts";
import type { StoredSecretStore } from "../store/stored-secrets.ts";
import { describeKeySource, resolveKeyEncryptionKey } from "./key-encryption-key-source.ts";
import { createSecretBox, isSealed, type SecretBox } from "./secret-box.ts";
import { assertSealedWith, sealingKeyIds, sealPlainSecrets } from "./stored-secret-sealing.ts";

export interface LoadSecretBoxOptions {
  /** KEY_ENCRYPTION_KEY, when configured. */
  setting: string | undefined;
  /** The key file to read or generate without the setting; undefined for an in-memory database. */
  file: string | undefined;
  /** Whether the database is shared (PostgreSQL): a key file on one machine then deserves a warning. */
  postgres: boolean;
}

export interface LoadedSecretBox {
  box: SecretBox;
  /** Where the key came from, in words (never the key). */
  source: string;
  /** What this start generated or changed, for the start-up line. */
  notes: string[];
  /** Things worth a warning in the log. */
  warnings: string[];
}

/**
 * Start-up: finds the key-encryption key (setting, key file, or a new key file on the first
 * start), checks that it is the key the stored secrets were sealed with, and encrypts any
 * secret an older version left in plain text. After this every stored secret is sealed with
 * the returned box.
 *
 * @throws AuthError("invalid_config") naming KEY_ENCRYPTION_KEY when the key is malformed or
 * is not the database's.
 */
export async function loadSecretBox(store: StoredSecretStore, options: LoadSecretBoxOptions): Promise<LoadedSecretBox> {
  assertStoredSecretStore(store);
  const stored = await store.listStoredSecrets();
  const source = resolveKeyEncryptionKey({
    setting: options.setting,
    file: options.file,
    sealedWith: sealingKeyIds(stored),
  });
  const box = createSecretBox(source.key);
  const described = describeKeySource(source);
  try {
    assertSealedWith(stored, box, described);
  } catch (error) {
    const staged = `${source.file}.new`;
    if (source.file === undefined || !existsSync(staged)) throw error;
    throw new AuthError(
      "invalid_config",
      `${(error as Error).message} ${staged} exists: a \`keys reencrypt\` was interrupted after re-encrypting; ` +
        "rename that file over the key file.",
    );
  }

  const notes: string[] = [];
  const warnings: string[] = [];
  if (source.origin === "generated") {
    notes.push(
      options.postgres
        ? `generated key-encryption key ${source.file} ON THIS MACHINE ONLY: set KEY_ENCRYPTION_KEY to it on every ` +
            "instance sharing this PostgreSQL database, and keep a copy apart from the database's backups"
        : `generated key-encryption key ${source.file} (back it up apart from the database: without it the stored ` +
            "keys cannot be used)",
    );
  } else if (source.origin === "file" && options.postgres) {
    warnings.push(
      `KEY_ENCRYPTION_KEY is not set: the stored secrets are encrypted with the key in ${source.file} on this ` +
        "machine. Set KEY_ENCRYPTION_KEY to it on every instance sharing the database.",
    );
  }
  if (source.looseMode !== undefined) {
    warnings.push(
      `The key-encryption key file ${source.file} is readable by other accounts (mode ` +
        `${source.looseMode.toString(8)}); run: chmod 600 ${source.file}`,
    );
  }
  if (stored.some((secret) => !isSealed(secret.value))) {
    const sealed = await sealPlainSecrets(store, box);
    if (sealed > 0) notes.push(`encrypted ${sealed} stored secret(s) that were in plain text`);
  }
  return { box, source: described, notes, warnings };
}

/** A store given as an option must be able to list and rewrite its secrets. */
function assertStoredSecretStore(store: StoredSecretStore): void {
  const candidate = store as Partial<StoredSecretStore>;
  if (typeof candidate.listStoredSecrets !== "function" || typeof candidate.rewriteStoredSecrets !== "function") {
    throw new AuthError(
      "invalid_config",
      "The store given as the `store` option has no listStoredSecrets()/rewriteStoredSecrets() methods, which " +
        "encryption at rest needs (to encrypt values left in plain text and to change the key-encryption key).",
    );
  }
}
