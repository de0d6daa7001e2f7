import { AuthError } from "../errors.ts";
import { estimateGuesses } from "../passwords/password-guessability.ts";

/** The smallest HMAC key we accept: 256 bits, the size of the HS256 output (RFC 7518 §3.2). */
const MIN_KEY_BYTES = 32;
/** A run this long of one character does not happen in random hex/base64 of useful length. */
const MAX_REPEAT_RUN = 8;
/**
 * Fewest distinct characters a random 32+ byte secret shows: 64 random hex digits use 12 or
 * more of the 16 with probability > 1 - 10^-6, 43 random base64 characters ~31 of 64.
 */
const MIN_DISTINCT_CHARS: Record<SecretEncoding, number> = { hex: 12, base64: 16 };
/**
 * Fewest distinct byte values the decoded key may have: 60% of its length, at most 128. Random
 * 32-byte keys have about 30 (the lowest in a million tries was 22), 64-byte keys about 57 (lowest
 * 43); a 16-byte key written twice has at most 16.
 */
const minDistinctBytes = (length: number) => Math.min(Math.floor(length * 0.6), 128);
/**
 * Base64 written by a person (words, names, keyboard walks) is told from random base64 by two
 * zxcvbn-ts measures that must both point the same way. Random 32-byte secrets rate about one
 * order of magnitude of guesses per character (the lowest of thousands tried: 0.92) and have at
 * most an eighth of their characters in recognised parts of 4+ characters; made-up ones measured
 * rate 0.36–0.79 with 58–100% of their characters recognised.
 */
const MIN_GUESSES_LOG10_PER_CHARACTER = 0.85;
const MAX_RECOGNISED_SHARE = 0.4;
/** Shorter recognised parts (like "at", "the") turn up in random text all the time. */
const MIN_RECOGNISED_PART = 4;

/**
 * How to make a good one. Deliberately free of the word "secret" (so a refused value such as
 * "secret" is never seemingly echoed); `npx gatehouse secret` prints the same thing.
 */
const GENERATE_HINT = `Generate one with: node -e "console.log(require('crypto').randomBytes(64).toString('hex'))"`;

/** The seeds' sample secret: it is public, so tokens signed with it can be forged by anyone. */
const PUBLISHED_SAMPLE =
  "09f26e402586e2faa8da4c98a35f1b20d6b033c6097befa8be3486a829587fe2" +
  "f90a832bd3ff9d42710a4da095a2ce285b009f0c3730cd9b8e1af3eb84df6611";

/** Substrings that mark a value copied from documentation (matched case-insensitively). */
const PLACEHOLDER_PARTS = [
  "secret",
  "changeme",
  "change-me",
  "change_me",
  "change me",
  "example",
  "placeholder",
  "password",
  "passwd",
  "replace",
  "default",
  "sample",
  "insert",
  "xxxxxx",
];
/** Short placeholder words, matched only as whole lowercase words so random base64 practically never trips them. */
const PLACEHOLDER_WORDS = /(?:^|[^A-Za-z0-9])(?:your|test|demo|todo|token|xxxx)(?=$|[^A-Za-z0-9])/;

const HEX = /^(?:[0-9a-f]{2})+$|^(?:[0-9A-F]{2})+$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const BASE64URL = /^[A-Za-z0-9_-]+={0,2}$/;

/** How the text encodes the key bytes it stands for. */
type SecretEncoding = "hex" | "base64";

/**
 * Checks that `secret` (the value of `setting`) is a random HMAC key and returns the key bytes:
 * the secret's UTF-8 bytes, exactly as `jsonwebtoken`, `jose` (via TextEncoder) and the seeds
 * use it, so other services verifying with the same string keep working.
 *
 * The secret must be hex or base64/base64url encoding of at least 32 random bytes. Refused, with
 * `AuthError("invalid_config")` naming the setting and the fix (never the secret): any other
 * text; fewer than 32 bytes; a placeholder or the seeds' published sample; long runs of one
 * character, few distinct characters, a repeated pattern or a run of consecutive characters;
 * bytes that are printable text or repeat too much; base64 that reads as words or keyboard walks.
 *
 * @example assertStrongSecret(process.env.ACCESS_TOKEN_SECRET!, "ACCESS_TOKEN_SECRET")
 */
export function assertStrongSecret(secret: string, setting: string): Buffer {
  const refuse = (problem: string): never => {
    throw new AuthError("invalid_config", `${setting} ${problem}. ${GENERATE_HINT}`);
  };
  if (typeof secret !== "string" || secret.length === 0) refuse("is empty: it needs at least 32 random bytes");

  const lower = secret.toLowerCase();
  if (lower === PUBLISHED_SAMPLE) {
    refuse("is the published sample value, so anyone can forge tokens with it; use your own random secret");
  }
  if (PLACEHOLDER_PARTS.some((part) => lower.includes(part)) || PLACEHOLDER_WORDS.test(secret)) {
    refuse("looks like a placeholder; replace it with at least 32 random bytes");
  }

  const decoded = decode(secret);
  if (decoded === null) {
    refuse(
      "must be the hex or base64 encoding of at least 32 random bytes; it has characters or a length neither allows",
    );
  }
  const { encoding, bytes } = decoded as Decoded;
  if (bytes.length < MIN_KEY_BYTES) {
    refuse(`is too short: ${bytes.length} bytes, need at least ${MIN_KEY_BYTES} random bytes`);
  }

  const random = "use at least 32 random bytes";
  if (longestRun(secret) >= MAX_REPEAT_RUN) {
    refuse(`repeats one character too many times in a row to be random; ${random}`);
  }
  if (new Set(secret).size < MIN_DISTINCT_CHARS[encoding]) {
    refuse(`uses too few distinct characters to be random; ${random}`);
  }
  if (hasShortPeriod(secret)) refuse(`repeats a short pattern, so it is guessable; ${random}`);
  if (isMostlySequential(secret)) {
    refuse(`is mostly a run of consecutive characters (like abcd or 1234), so it is guessable; ${random}`);
  }
  if (isPrintableText(bytes)) refuse(`encodes text, not random bytes; ${random}`);
  if (new Set(bytes).size < minDistinctBytes(bytes.length)) refuse(`repeats bytes too often to be random; ${random}`);
  if (encoding === "base64" && readsAsWords(secret)) {
    refuse(`reads as words or keyboard patterns, not random bytes; ${random}`);
  }
  return Buffer.from(secret, "utf8");
}

interface Decoded {
  encoding: SecretEncoding;
  bytes: Buffer;
}

/** The key bytes the text encodes; hex first (64 hex digits are 32 bytes, not 48), null if neither. */
function decode(secret: string): Decoded | null {
  if (HEX.test(secret)) return { encoding: "hex", bytes: Buffer.from(secret, "hex") };
  if (!BASE64.test(secret) && !BASE64URL.test(secret)) return null;
  const body = secret.replace(/=+$/, "");
  const padding = secret.length - body.length;
  // A lone trailing character carries no whole byte; padding, when present, must complete the last group.
  if (body.length % 4 === 1 || (padding > 0 && secret.length % 4 !== 0)) return null;
  return { encoding: "base64", bytes: Buffer.from(body, BASE64URL.test(secret) ? "base64url" : "base64") };
}

/** Every byte printable ASCII or a line break: random 32 bytes are that with probability about 10^-14. */
function isPrintableText(bytes: Buffer): boolean {
  return bytes.every((b) => (b >= 0x20 && b <= 0x7e) || b === 0x09 || b === 0x0a || b === 0x0d);
}

/** zxcvbn-ts finds words, names or keyboard walks making up much of the text and making it cheap to guess. */
function readsAsWords(secret: string): boolean {
  const estimate = estimateGuesses(secret);
  let recognised = 0;
  for (const part of estimate.parts) {
    const length = [...part.token].length;
    if (part.pattern !== "bruteforce" && length >= MIN_RECOGNISED_PART) recognised += length;
  }
  const cheap = estimate.guessesLog10 / estimate.scoredCharacters < MIN_GUESSES_LOG10_PER_CHARACTER;
  return cheap && recognised / estimate.scoredCharacters >= MAX_RECOGNISED_SHARE;
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
