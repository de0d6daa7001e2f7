/** One secret a store keeps, as stored: sealed by a SecretBox, or plain when written by an older version. */
export interface StoredSecret {
  /** Where it lives, as `table.column` (e.g. `signing_keys.private_jwk`). */
  column: string;
  /** The row's id in that table. */
  id: string;
  /** The SecretBox context it is sealed under (e.g. `signing_key:<kid>`). */
  context: string;
  value: string;
}

/**
 * Every secret column of the store, walked as one list: to encrypt values left in plain
 * text by older versions, to change the key-encryption key, and for `doctor`.
 */
export interface StoredSecretStore {
  /** Every stored secret, in a stable order. */
  listStoredSecrets(): Promise<StoredSecret[]>;
  /**
   * In one transaction, replaces each stored secret with what `rewrite` returns for it
   * (undefined: leave it). Rows are locked while read, so instances doing this at once
   * rewrite each value once. When `rewrite` throws, nothing changes. Returns how many changed.
   */
  rewriteStoredSecrets(rewrite: (secret: StoredSecret) => string | undefined): Promise<number>;
}
