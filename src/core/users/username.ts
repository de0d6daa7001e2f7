import { AuthError } from "../errors.ts";
import { isSingleScript, isWholeScriptLatinLookalike } from "./username-scripts.ts";

/**
 * The one place usernames are normalised and checked. Register, login, the store's lookup key,
 * the login throttle and the CLI all go through these functions, so one person's name always
 * means one account and one throttle counter.
 */

/** Letters, marks, digits and a few separators common in handles and e-mail addresses. */
const USERNAME_PATTERN = /^[\p{L}\p{M}\p{N}._@+-]{3,64}$/u;
/**
 * Code points that draw nothing or reorder text: zero-width characters, joiners, variation
 * selectors, Hangul fillers, tag characters and bidirectional controls. Two names differing
 * only by these look identical.
 */
const INVISIBLE = /[\p{Default_Ignorable_Code_Point}\p{Bidi_Control}]/u;
/** UTS #39 §5.4 (on the NFD form): a mark repeated, or more than four marks in a row, hides what is underneath. */
const STACKED_MARKS = /(\p{Mn})\1|\p{Mn}{5}|^\p{M}/u;

const refuse = (message: string) => new AuthError("invalid_request", message);

/**
 * A username as it is stored and shown: NFKC (so full-width and composed forms are one name),
 * surrounding whitespace removed. Never throws; use it for lookups of names that already exist.
 *
 * @example normalizeUsername("  Ａｌｉｃｅ "); // "Alice"
 */
export function normalizeUsername(raw: string): string {
  return raw.normalize("NFKC").trim();
}

/**
 * The case-insensitive identity of a username: its normalised form in lower case, so "Alice",
 * "ALICE" and the full-width "Ａｌｉｃｅ" are one account (and one throttle counter).
 */
export function usernameKey(username: string): string {
  return normalizeUsername(username).toLowerCase();
}

/**
 * Normalises and checks a new username; returns the form to store. Refused with
 * `AuthError("invalid_request")`: anything but 3–64 letters, digits and `. _ @ + -`; invisible
 * or default-ignorable code points; letters from more than one writing system (UTS #39 highly
 * restrictive, so "pаypal" with a Cyrillic "а" cannot pose as "paypal"); Cyrillic or Greek
 * names made only of Latin-looking letters; stacked combining marks.
 *
 * @example validateNewUsername("josé"); // "josé"
 */
export function validateNewUsername(raw: string): string {
  const username = normalizeUsername(raw);
  if (INVISIBLE.test(username)) {
    throw refuse(
      "Username must not contain invisible characters (such as zero-width spaces or text-direction controls).",
    );
  }
  if (!USERNAME_PATTERN.test(username)) {
    throw refuse("Username must be 3–64 characters: letters, digits and . _ @ + - only.");
  }
  if (STACKED_MARKS.test(username.normalize("NFD"))) {
    throw refuse("Username must not stack accents or other combining marks.");
  }
  if (!isSingleScript(username)) {
    throw refuse(
      "Username must not mix letters from different writing systems (such as Latin with Cyrillic or Greek), " +
        "because such names can imitate other accounts.",
    );
  }
  if (isWholeScriptLatinLookalike(username)) {
    throw refuse(
      "Username must not be made only of Cyrillic or Greek letters that look like Latin ones (such as а, о, р); " +
        "include a letter that looks different, or write it in Latin letters.",
    );
  }
  return username;
}
