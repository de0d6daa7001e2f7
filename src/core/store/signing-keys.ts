/** A token-signing key and its life: published, signing, retired, removed. */
export interface SigningKeyRecord {
  kid: string;
  alg: string;
  /**
   * Private key as JWK JSON text, sealed by the SecretBox (context `signing_key:<kid>`) in the
   * store; `sealedSigningKeys` seals it on insert and opens it on list.
   */
  privateJwk: string;
  publicJwk: string;
  createdAt: number;
  /** Starts signing at this time; published in JWKS from createdAt. */
  activatesAt: number;
  /** Stops signing at this time (null: still eligible). */
  retiredAt: number | null;
  /** Removed from JWKS after this time (last token signed by it has expired). */
  expiresAt: number | null;
}

/** Only the fields given change; `null` clears one. */
export interface SigningKeyChanges {
  retiredAt?: number | null;
  expiresAt?: number | null;
}

/** Signing keys. */
export interface SigningKeyStore {
  /** Oldest first. */
  listSigningKeys(): Promise<SigningKeyRecord[]>;
  insertSigningKey(key: SigningKeyRecord): Promise<void>;
  updateSigningKey(kid: string, changes: SigningKeyChanges): Promise<void>;
}
