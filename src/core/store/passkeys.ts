/** A WebAuthn credential (passkey) registered to a user. */
export interface PasskeyRecord {
  /** The credential id, base64url, as the authenticator made it. */
  id: string;
  userId: string;
  /** The COSE public key, base64url. */
  publicKey: string;
  /** The signature counter last seen (0 for authenticators that do not count). */
  counter: number;
  transports: string[];
  /** "singleDevice" or "multiDevice" (synced), as the authenticator reports it. */
  deviceType: string;
  backedUp: boolean;
  /** The user's label for it. */
  name: string;
  createdAt: number;
  lastUsedAt: number | null;
}

/** A WebAuthn challenge handed out and not yet answered. Only its hash is kept. */
export interface WebAuthnChallengeRecord {
  hash: string;
  /** "register", "login" (passkey alone) or "mfa" (second factor after a password). */
  purpose: string;
  /** The user it was issued for; null for a passkey-alone login (the passkey says who). */
  userId: string | null;
  createdAt: number;
  expiresAt: number;
}

/** Passkeys and the challenges of their ceremonies. */
export interface PasskeyStore {
  /** False when a passkey with this id already exists. */
  insertPasskey(passkey: PasskeyRecord): Promise<boolean>;
  /** The user's passkeys, oldest first. */
  listPasskeys(userId: string): Promise<PasskeyRecord[]>;
  findPasskey(id: string): Promise<PasskeyRecord | null>;
  /** Records a successful use: the new counter and backup state. */
  recordPasskeyUse(id: string, counter: number, backedUp: boolean, at: number): Promise<void>;
  /** Renames one of the user's passkeys; false when the user has none with this id. */
  renamePasskey(userId: string, id: string, name: string): Promise<boolean>;
  /** Removes one of the user's passkeys; false when the user has none with this id. */
  deletePasskey(userId: string, id: string): Promise<boolean>;
  /** Removes every passkey of the user; returns how many. */
  deletePasskeys(userId: string): Promise<number>;

  insertWebAuthnChallenge(challenge: WebAuthnChallengeRecord): Promise<void>;
  /** Takes an unexpired challenge, once: parallel answers to one challenge see it once. */
  consumeWebAuthnChallenge(hash: string, now: number): Promise<WebAuthnChallengeRecord | null>;
  /** Deletes challenges that expired before `before`. */
  pruneWebAuthnChallenges(before: number): Promise<number>;
}
