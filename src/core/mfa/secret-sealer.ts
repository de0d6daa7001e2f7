import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { AuthError } from "../errors.ts";

/**
 * What the MFA code needs to keep TOTP secrets encrypted at rest: the shape of the shared
 * SecretBox (AES-256-GCM, the context bound as additional authenticated data, so a sealed
 * secret copied into another user's row does not open).
 */
export interface SecretSealer {
  seal(plaintext: string, context: string): string;
  /** Throws AuthError("unavailable") when the value was changed, sealed under another key or context. */
  open(sealed: string, context: string): string;
}

/** Sealed text: `ghenc1.<keyId>.<iv b64url>.<ciphertext+tag b64url>`. */
const SEALED = /^ghenc1\.([A-Za-z0-9_-]{1,32})\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/;

/**
 * A sealer over a 32-byte key, in the shared SecretBox format. Used until the server-wide
 * SecretBox (key from KEY_ENCRYPTION_KEY) is wired in; then that one is passed instead.
 */
export function createAesGcmSealer(key: Uint8Array, keyId: string): SecretSealer {
  if (key.length !== 32) throw new AuthError("invalid_config", "A key-encryption key must be 32 bytes.");
  const secret = Buffer.from(key);
  const unavailable = () =>
    new AuthError("unavailable", "A stored secret could not be decrypted: check the key-encryption key.");
  return {
    seal(plaintext, context) {
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", secret, iv, { authTagLength: 16 });
      cipher.setAAD(Buffer.from(context, "utf8"));
      const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final(), cipher.getAuthTag()]);
      return `ghenc1.${keyId}.${iv.toString("base64url")}.${body.toString("base64url")}`;
    },
    open(sealed, context) {
      const match = SEALED.exec(sealed);
      if (!match || match[1] !== keyId) throw unavailable();
      const iv = Buffer.from(match[2]!, "base64url");
      const body = Buffer.from(match[3]!, "base64url");
      if (iv.length !== 12 || body.length < 16) throw unavailable();
      try {
        const decipher = createDecipheriv("aes-256-gcm", secret, iv, { authTagLength: 16 });
        decipher.setAAD(Buffer.from(context, "utf8"));
        decipher.setAuthTag(body.subarray(body.length - 16));
        return Buffer.concat([decipher.update(body.subarray(0, body.length - 16)), decipher.final()]).toString("utf8");
      } catch {
        throw unavailable();
      }
    },
  };
}
