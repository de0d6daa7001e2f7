/**
 * Strict base64url (RFC 7515 §2, RFC 4648 §5 without padding). Node's own decoder is
 * lenient (it skips `=`, `+`, `/`, whitespace and garbage), so every JWT segment is
 * checked here first: one token string must have exactly one accepted spelling.
 */

/**
 * Runs of base64url characters, matched in place from `lastIndex` (sticky): V8 compiles this
 * to native code, measurably faster than a charCodeAt loop, and a single character class
 * cannot backtrack.
 */
const RUN = /[A-Za-z0-9_-]*/y;

/** Each base64url character's 6-bit value (ASCII only), for the trailing-bits check. */
const VALUE = new Uint8Array(128);
{
  const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  for (let i = 0; i < chars.length; i++) VALUE[chars.charCodeAt(i)] = i;
}

/**
 * Whether `text.slice(start, end)` is canonical unpadded base64url: only `[A-Za-z0-9_-]`,
 * a length that can encode whole bytes (never 1 mod 4), and zero unused bits in the last
 * character (so no two strings decode to the same bytes). An empty range is not valid.
 * Works on a range to avoid copying JWT segments on the hot path.
 */
export function isStrictBase64url(text: string, start = 0, end = text.length): boolean {
  const length = end - start;
  if (length <= 0 || length % 4 === 1) return false;
  RUN.lastIndex = start;
  RUN.test(text);
  if (RUN.lastIndex < end) return false;
  const rest = length % 4;
  if (rest === 0) return true;
  const last = VALUE[text.charCodeAt(end - 1)]!;
  return rest === 2 ? (last & 0x0f) === 0 : (last & 0x03) === 0;
}

/** Decodes strict base64url, or returns undefined for anything else (see isStrictBase64url). */
export function decodeBase64url(text: string): Buffer | undefined {
  return isStrictBase64url(text) ? Buffer.from(text, "base64url") : undefined;
}

/** Encodes bytes or UTF-8 text as unpadded base64url. */
export function encodeBase64url(value: Uint8Array | string): string {
  return (
    typeof value === "string"
      ? Buffer.from(value, "utf8")
      : Buffer.from(value.buffer, value.byteOffset, value.byteLength)
  ).toString("base64url");
}
