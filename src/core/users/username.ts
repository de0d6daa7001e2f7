import { AuthError } from "../errors.ts";

/** Letters, marks, digits and a few separators common in handles and e-mail addresses. */
const USERNAME_PATTERN = /^[\p{L}\p{M}\p{N}._@+-]{3,64}$/u;

/**
 * Normalises a username (NFKC, trimmed) and checks it: 3–64 characters of letters,
 * digits and `. _ @ + -`. Lookups are case-insensitive (the store keys on lower case).
 */
export function normalizeUsername(raw: string): string {
  const username = raw.normalize("NFKC").trim();
  if (!USERNAME_PATTERN.test(username)) {
    throw new AuthError(
      "invalid_request",
      "Username must be 3–64 characters: letters, digits and . _ @ + - only.",
    );
  }
  return username;
}
