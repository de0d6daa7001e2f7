import { AuthError } from "../errors.ts";

/** The smallest HMAC key we accept: 256 bits, the size of the HS256 output (RFC 7518 §3.2). */
const MIN_KEY_BYTES = 32;
/** Below this estimated entropy a secret is guessable offline from any one token. */
const MIN_ENTROPY_BITS = 128;
/** A run this long of one character does not happen in random hex/base64 of useful length. */
const MAX_REPEAT_RUN = 8;
/**
 * Fewest distinct characters a random 32+ byte secret shows: 64 random hex digits use 12 or
 * more of the 16 with probability > 1 - 10^-6, 43 random base64 characters ~31 of 64.
 */
const MIN_DISTINCT_CHARS: Record<SecretEncoding, number> = { hex: 12, base64: 16, text: 10 };

/**
 * How to make a good one. Deliberately free of the word "secret" (so a refused value such as
 * "secret" is never seemingly echoed); `npx gatehouse secret` prints the same thing.
 */
const GENERATE_HINT = `Generate one with: node -e "console.log(require('crypto').randomBytes(64).toString('hex'))"`;

/** The seeds' sample secret: it is public, so tokens signed with it can be forged by anyone. */
const PUBLISHED_SAMPLE =
  "09f26e402586e2faa8da4c98a35f1b20d6b033c6097befa8be3486a829587fe2f90a832bd3ff9d42710a4da095a2ce285b009f0c3730cd9b8e1af3eb84df6611";

/** Substrings that mark a value copied from documentation (matched case-insensitively). */
const PLACEHOLDER_PARTS = ["secret", "changeme", "change-me", "change_me", "change me", "example", "placeholder", "password", "passwd", "replace", "default", "sample", "insert", "xxxxxx"];
/** Short placeholder words, matched only as whole lowercase words so random base64 practically never trips them. */
const PLACEHOLDER_WORDS = /(?:^|[^A-Za-z0-9])(?:your|test|demo|todo|token|xxxx)(?=$|[^A-Za-z0-9])/;

const HEX = /^[0-9a-f]+$/i;
const BASE64 = /^(?:[A-Za-z0-9+/]+={0,2}|[A-Za-z0-9_-]+)$/;
const LETTERS_AND_SPACES = /^[A-Za-z ]+$/;

/** How the text was read for measuring: the encoding decides how many key bytes it holds. */
type SecretEncoding = "hex" | "base64" | "text";

/**
 * Checks that `secret` (the value of `setting`) is a strong HMAC key and returns the key
 * bytes: the secret's UTF-8 bytes, exactly as `jsonwebtoken`, `jose` (via TextEncoder) and
 * the seeds use it, so other services verifying with the same string keep working.
 *
 * Hex (even length, ≥ 16 chars) and base64/base64url text are measured by the bytes they
 * encode; anything else by its UTF-8 length. Refused, with `AuthError("invalid_config")`
 * naming the setting and the fix (never the secret): fewer than 32 bytes of key material, a
 * placeholder or the seeds' published sample, words (letters and spaces), few distinct
 * characters, long runs of one character, a repeated pattern, or an estimated entropy under
 * 128 bits.
 *
 * @example assertStrongSecret(process.env.ACCESS_TOKEN_SECRET!, "ACCESS_TOKEN_SECRET")
 */
export function assertStrongSecret(secret: string, setting: string): Buffer {
  const refuse = (problem: string): never => {
    throw new AuthError("invalid_config", `${setting} ${problem}. ${GENERATE_HINT}`);
  };
  if (typeof secret !== "string" || secret.length === 0) refuse("is empty: it needs at least 32 random bytes");

  const lower = secret.toLowerCase();
  if (lower === PUBLISHED_SAMPLE) refuse("is the published sample value, so anyone can forge tokens with it; use your own random secret");
  if (PLACEHOLDER_PARTS.some((part) => lower.includes(part)) || PLACEHOLDER_WORDS.test(secret)) {
    refuse("looks like a placeholder; replace it with at least 32 random bytes");
  }

  const encoding = encodingOf(secret);
  const keyBytes = materialBytes(secret, encoding);
  if (keyBytes < MIN_KEY_BYTES) refuse(`is too short: ${keyBytes} bytes, need at least ${MIN_KEY_BYTES} random bytes`);

  if (longestRun(secret) >= MAX_REPEAT_RUN) refuse("repeats one character too many times in a row to be random; use at least 32 random bytes");
  if (distinctCharacters(secret) < MIN_DISTINCT_CHARS[encoding]) refuse("uses too few distinct characters to be random; use at least 32 random bytes");
  if (hasShortPeriod(secret)) refuse("repeats a short pattern, so it is guessable; use at least 32 random bytes");
  if (isMostlySequential(secret)) refuse("is mostly a run of consecutive characters (like abcd or 1234), so it is guessable; use at least 32 random bytes");
  if (LETTERS_AND_SPACES.test(secret) && looksLikeWords(secret)) refuse("is made of words; use at least 32 random bytes instead");
  const bits = estimateEntropyBits(secret, encoding);
  if (bits < MIN_ENTROPY_BITS) refuse(`is guessable: about ${Math.floor(bits)} bits of entropy, need at least ${MIN_ENTROPY_BITS}; use at least 32 random bytes`);

  return Buffer.from(secret, "utf8");
}

function encodingOf(secret: string): SecretEncoding {
  if (secret.length >= 16 && secret.length % 2 === 0 && HEX.test(secret)) return "hex";
  // Letters-only text is more likely words than base64; measure it as text.
  if (secret.length >= 16 && BASE64.test(secret) && /[0-9+/_=-]/.test(secret)) return "base64";
  return "text";
}

function materialBytes(secret: string, encoding: SecretEncoding): number {
  if (encoding === "hex") return secret.length / 2;
  if (encoding === "base64") return Math.floor((secret.replace(/=+$/, "").length * 3) / 4);
  return Buffer.byteLength(secret, "utf8");
}

/**
 * Letters and spaces only: refused when it has spaces (a phrase) or is nearly one case
 * (words, CamelCase). Random base64 that happens to be all letters mixes cases evenly.
 */
function looksLikeWords(secret: string): boolean {
  if (secret.includes(" ")) return true;
  let upper = 0;
  for (const c of secret) if (c >= "A" && c <= "Z") upper++;
  const ratio = upper / secret.length;
  return ratio < 0.2 || ratio > 0.8;
}

/** "abcdef…", "123456…", "zyxw…": random text has a neighbour one code point apart about 3% of the time. */
function isMostlySequential(secret: string): boolean {
  let steps = 0;
  for (let i = 1; i < secret.length; i++) {
    const difference = secret.charCodeAt(i) - secret.charCodeAt(i - 1);
    if (difference === 1 || difference === -1) steps++;
  }
  return steps > (secret.length - 1) / 2;
}

function distinctCharacters(secret: string): number {
  return new Set(secret).size;
}

function longestRun(secret: string): number {
  let longest = 0;
  let run = 0;
  let previous = "";
  for (const c of secret) {
    run = c === previous ? run + 1 : 1;
    previous = c;
    if (run > longest) longest = run;
  }
  return longest;
}

/** Whether the text is a shorter string repeated (e.g. "abc123abc123…"), a period of at most a quarter of it. */
function hasShortPeriod(secret: string): boolean {
  const n = secret.length;
  for (let period = 1; period <= n / 4; period++) {
    let repeats = true;
    for (let i = period; i < n; i++) {
      if (secret[i] !== secret[i - period]) {
        repeats = false;
        break;
      }
    }
    if (repeats) return true;
  }
  return false;
}

/**
 * A conservative estimate: the smaller of (length × bits per symbol of the alphabet in use)
 * and (length × the observed Shannon entropy per character). The second catches skewed
 * text such as "aaaaaaab…" that a character-class count would overrate.
 */
function estimateEntropyBits(secret: string, encoding: SecretEncoding): number {
  const chars = [...secret];
  let alphabetBits: number;
  if (encoding === "hex") alphabetBits = 4;
  else if (encoding === "base64") alphabetBits = 6;
  else {
    let size = 0;
    if (/[a-z]/.test(secret)) size += 26;
    if (/[A-Z]/.test(secret)) size += 26;
    if (/[0-9]/.test(secret)) size += 10;
    if (/[^A-Za-z0-9]/.test(secret)) size += 33;
    alphabetBits = Math.log2(Math.max(size, 2));
  }
  const counts = new Map<string, number>();
  for (const c of chars) counts.set(c, (counts.get(c) ?? 0) + 1);
  let shannon = 0;
  for (const count of counts.values()) {
    const p = count / chars.length;
    shannon -= p * Math.log2(p);
  }
  return chars.length * Math.min(alphabetBits, shannon);
}
