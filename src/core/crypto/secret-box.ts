import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { AuthError } from "../errors.ts";
import { isStrictBase64url } from "../tokens/base64url.ts";

/**
 * Seals small secrets (private keys, the refresh-rotation key, TOTP secrets) for storage,
 * so a database dump, backup or replica alone never holds a usable secret.
 */
export interface SecretBox {
  /** Short, non-secret id of the key-encryption key; part of every sealed value. */
  readonly keyId: string;
  /**
   * Encrypts `plaintext` under the key-encryption key. `context` names where the value is
   * stored (e.g. `signing_key:<kid>`): a sealed value only opens under the same context, so
   * one cannot be copied into another row.
   */
  seal(plaintext: string, context: string): string;
  /**
   * Decrypts a value from `seal`. Throws AuthError("unavailable") when it was sealed with
   * another key, under another context, or changed since (naming KEY_ENCRYPTION_KEY).
   */
  open(sealed: string, context: string): string;
}

/** Bytes in a key-encryption key (AES-256). */
export const KEY_ENCRYPTION_KEY_BYTES = 32;

const VERSION = "ghenc1";
// NIST SP 800-38D §8.2.2: a random 96-bit IV; one key stays far below 2^32 seals here.
const IV_BYTES = 12;
const TAG_BYTES = 16;
const SEALED = /^ghenc1\.([A-Za-z0-9_-]{1,32})\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/;

/** Whether `value` has the sealed format (says nothing about which key sealed it). */
export function isSealed(value: string): boolean {
  return SEALED.test(value);
}

/** The id of the key that sealed `value`, or undefined when `value` is not sealed. */
export function sealedKeyId(value: string): string | undefined {
  return SEALED.exec(value)?.[1];
}

/**
 * The id a key is known by in sealed values: a domain-separated SHA-256 of the key, cut to
 * 11 characters (66 bits). Enough to tell keys apart with a clear message; useless for
 * recovering the key.
 */
export function keyIdOf(key: Uint8Array): string {
  return createHash("sha256").update("gatehouse key-encryption key id\0").update(key).digest("base64url").slice(0, 11);
}

/** A fresh random key-encryption key. */
export function generateKeyEncryptionKey(): Buffer {
  return randomBytes(KEY_ENCRYPTION_KEY_BYTES);
}

/**
 * A SecretBox over a 32-byte key: AES-256-GCM, a random 96-bit IV per value, the context as
 * additional authenticated data. Sealed text: `ghenc1.<keyId>.<iv>.<ciphertext+tag>` (base64url).
 *
 * @example
 * const box = createSecretBox(generateKeyEncryptionKey());
 * const sealed = box.seal(totpSecret, `totp:${userId}`);
 * box.open(sealed, `totp:${userId}`) === totpSecret;
 */
export function createSecretBox(key: Uint8Array): SecretBox {
  if (key.length !== KEY_ENCRYPTION_KEY_BYTES) {
    throw new AuthError("invalid_config", `A key-encryption key must be ${KEY_ENCRYPTION_KEY_BYTES} bytes.`);
  }
  const secret = Buffer.from(key); // a private copy the caller cannot change
  const keyId = keyIdOf(secret);

  const seal = (plaintext: string, context: string): string => {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", secret, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(context, "utf8"));
    const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final(), cipher.getAuthTag()]);
    return `${VERSION}.${keyId}.${iv.toString("base64url")}.${body.toString("base64url")}`;
  };

  const open = (sealed: string, context: string): string => {
    const parts = SEALED.exec(sealed);
    if (parts === null) throw unreadable(context, "it is not in the sealed format");
    const [, sealedWith, ivText, bodyText] = parts as unknown as [string, string, string, string];
    if (sealedWith !== keyId) {
      throw new AuthError(
        "unavailable",
        `The stored secret ${context} was encrypted with key-encryption key id ${sealedWith}, but ` +
          `KEY_ENCRYPTION_KEY (or its key file) is key id ${keyId}. Start with the key this database was encrypted ` +
          "with (the KEY_ENCRYPTION_KEY setting or the key-encryption-key file that came with it).",
      );
    }
    if (!isStrictBase64url(ivText) || !isStrictBase64url(bodyText)) throw unreadable(context, "it is malformed");
    const iv = Buffer.from(ivText, "base64url");
    const body = Buffer.from(bodyText, "base64url");
    if (iv.length !== IV_BYTES || body.length < TAG_BYTES) throw unreadable(context, "it is malformed");
    try {
      const decipher = createDecipheriv("aes-256-gcm", secret, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(context, "utf8"));
      decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
      return Buffer.concat([decipher.update(body.subarray(0, body.length - TAG_BYTES)), decipher.final()]).toString(
        "utf8",
      );
    } catch {
      throw unreadable(context, "it fails authentication (changed, or moved from another row)");
    }
  };

  return Object.freeze({ keyId, seal, open });
}

function unreadable(context: string, why: string): AuthError {
  return new AuthError(
    "unavailable",
    `The stored secret ${context} cannot be decrypted with KEY_ENCRYPTION_KEY: ${why}. ` +
      "Restore it from a backup taken with the same key-encryption key.",
  );
}
