import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** How many codes a user gets at a time. */
export const RECOVERY_CODE_COUNT = 10;

// RFC 4648 base32 without the padding; 10 characters carry 50 random bits.
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const CODE_LENGTH = 10;

/** Ten fresh codes, shown to the user once, e.g. `7KQ2M-XW4PA`. */
export function generateRecoveryCodes(count = RECOVERY_CODE_COUNT): string[] {
  return Array.from({ length: count }, () => {
    const bytes = randomBytes(CODE_LENGTH);
    let code = "";
    // 256 is a multiple of 32, so taking each byte modulo 32 is unbiased.
    for (const byte of bytes) code += ALPHABET[byte % 32];
    return `${code.slice(0, 5)}-${code.slice(5)}`;
  });
}

/** What the user typed, in the stored form: case, spaces and hyphens do not matter. */
export function normalizeRecoveryCode(input: string): string {
  return input.replace(/[\s-]+/g, "").toUpperCase();
}

/**
 * SHA-256 is enough for 50-bit random codes: unlike passwords they cannot be guessed from
 * a dictionary, and the login steps around them are throttled.
 */
export function hashRecoveryCode(code: string): string {
  return createHash("sha256").update(normalizeRecoveryCode(code), "utf8").digest("base64url");
}

/** The stored hash `input` matches, compared in constant time against each one, or undefined. */
export function findRecoveryCode(input: string, storedHashes: readonly string[]): string | undefined {
  const candidate = Buffer.from(hashRecoveryCode(input));
  let found: string | undefined;
  for (const stored of storedHashes) {
    const bytes = Buffer.from(stored);
    if (bytes.length === candidate.length && timingSafeEqual(bytes, candidate)) found = stored;
  }
  return found;
}
