import { AuthError } from "../errors.ts";
import { KEY_ENCRYPTION_KEY_BYTES } from "./secret-box.ts";

const HEX = /^[0-9a-fA-F]{64}$/;
const BASE64 = /^[A-Za-z0-9+/]{43}=?$/;
const BASE64URL = /^[A-Za-z0-9_-]{43}$/;
/**
 * 32 random bytes show about 30 distinct values; fewer than 16 happens with probability far
 * below 10^-9, but catches a key typed by hand ("000…", "abab…").
 */
const MIN_DISTINCT_BYTES = 16;

/** How to make a key that passes; printed with every refusal. */
export const KEY_GENERATE_HINT =
  "Generate one with: " + `node -e "console.log(require('crypto').randomBytes(32).toString('hex'))"`;

/**
 * Reads a key-encryption key: 32 random bytes written as hex (64 characters) or base64 /
 * base64url (43 or 44 characters). Surrounding whitespace is ignored (key files end in a
 * newline). Throws AuthError("invalid_config") naming `source` (the setting or file), never
 * echoing the value.
 *
 * @example parseKeyEncryptionKey(process.env.KEY_ENCRYPTION_KEY!, "KEY_ENCRYPTION_KEY")
 */
export function parseKeyEncryptionKey(text: string, source: string): Buffer {
  const value = text.trim();
  let key: Buffer | undefined;
  if (HEX.test(value)) key = Buffer.from(value, "hex");
  else if (BASE64.test(value)) key = Buffer.from(value, "base64");
  else if (BASE64URL.test(value)) key = Buffer.from(value, "base64url");
  if (key === undefined || key.length !== KEY_ENCRYPTION_KEY_BYTES || !canonical(value, key)) {
    throw new AuthError(
      "invalid_config",
      `${source} must be ${KEY_ENCRYPTION_KEY_BYTES} random bytes written as hex (64 characters) or base64 ` +
        `(43 or 44 characters). ${KEY_GENERATE_HINT}`,
    );
  }
  if (new Set(key).size < MIN_DISTINCT_BYTES) {
    throw new AuthError(
      "invalid_config",
      `${source} is not random (it repeats a few byte values); use ${KEY_ENCRYPTION_KEY_BYTES} random bytes. ` +
        KEY_GENERATE_HINT,
    );
  }
  return key;
}

/** How a key is written to its file: hex, one line. */
export function formatKeyEncryptionKey(key: Uint8Array): string {
  return `${Buffer.from(key).toString("hex")}\n`;
}

/** One spelling per key: unused trailing bits of the last base64 character must be zero. */
function canonical(value: string, key: Buffer): boolean {
  if (HEX.test(value)) return true;
  const unpadded = value.replace(/=$/, "");
  return key.toString("base64").replace(/=$/, "") === unpadded || key.toString("base64url") === unpadded;
}
