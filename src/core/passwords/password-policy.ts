import { AuthError } from "../errors.ts";
import { isCommonPassword } from "./common-passwords.ts";

/** Length limits, counted in Unicode code points after NFKC. */
export interface PasswordPolicyOptions {
  /** Default 15; never below 8. */
  minLength: number;
  /** Default 256; at most 1024. */
  maxLength: number;
}

/** A validated policy. `check` throws `AuthError("invalid_password")` naming the broken rule. */
export interface PasswordPolicy {
  check(password: string, context: { username: string }): void;
  readonly options: Readonly<PasswordPolicyOptions>;
}

export const DEFAULT_PASSWORD_POLICY: Readonly<PasswordPolicyOptions> = Object.freeze({ minLength: 15, maxLength: 256 });

const LOWEST_MIN_LENGTH = 8;
const HIGHEST_MAX_LENGTH = 1024;
/** Usernames shorter than this are too likely to occur by chance inside a good password. */
const USERNAME_RULE_MIN_LENGTH = 3;
/** A group of at most this many characters, repeated, is a pattern rather than a password. */
const TRIVIAL_REPEAT_UNIT = 4;

/**
 * Unicode-normalises a password (NFKC), so that visually identical input (fullwidth letters,
 * ligatures, composed or decomposed accents) always hashes the same. Apply before hashing,
 * verifying and checking the policy.
 *
 * @example
 * normalizePassword("ｐａｓｓ"); // "pass"
 */
export function normalizePassword(password: string): string {
  return password.normalize("NFKC");
}

function invalidConfig(option: string, message: string): AuthError {
  return new AuthError("invalid_config", `Gatehouse option "password.${option}" ${message}`);
}

function validateOptions(options: Partial<PasswordPolicyOptions>): PasswordPolicyOptions {
  const minLength = options.minLength ?? DEFAULT_PASSWORD_POLICY.minLength;
  const maxLength = options.maxLength ?? DEFAULT_PASSWORD_POLICY.maxLength;
  if (!Number.isInteger(minLength) || minLength < LOWEST_MIN_LENGTH) {
    throw invalidConfig("minLength", `must be a whole number of at least ${LOWEST_MIN_LENGTH}; got ${String(minLength)}.`);
  }
  if (!Number.isInteger(maxLength) || maxLength > HIGHEST_MAX_LENGTH) {
    throw invalidConfig("maxLength", `must be a whole number of at most ${HIGHEST_MAX_LENGTH}; got ${String(maxLength)}.`);
  }
  if (maxLength < minLength) {
    throw invalidConfig("maxLength", `(${maxLength}) must be at least password.minLength (${minLength}).`);
  }
  return { minLength, maxLength };
}

/** The shortest group whose repetition (at least twice) makes up the whole password, if any. */
function repeatedUnit(codePoints: readonly string[]): string | null {
  const length = codePoints.length;
  for (let unit = 1; unit * 2 <= length; unit++) {
    if (length % unit !== 0) continue;
    if (codePoints.every((c, i) => c === codePoints[i % unit])) return codePoints.slice(0, unit).join("");
  }
  return null;
}

const invalidPassword = (message: string) => new AuthError("invalid_password", message);

/**
 * Builds the password policy of CONTRACT §3: length limits (15–256 by default), no composition
 * rules, and refusal of the username, trivially repeated patterns and common/breached passwords,
 * all judged on the NFKC form and case-insensitively. Options are checked once, here.
 *
 * @example
 * const policy = createPasswordPolicy({ minLength: 12 });
 * policy.check("correct horse battery staple", { username: "alice" }); // ok
 * policy.check("alice-alice-alice", { username: "alice" }); // throws invalid_password
 */
export function createPasswordPolicy(options: Partial<PasswordPolicyOptions> = {}): PasswordPolicy {
  const resolved = Object.freeze(validateOptions(options));
  const { minLength, maxLength } = resolved;

  return {
    options: resolved,
    check(password, context) {
      const normalized = normalizePassword(password);
      const codePoints = [...normalized];
      if (codePoints.length < minLength) {
        throw invalidPassword(`Password must be at least ${minLength} characters.`);
      }
      if (codePoints.length > maxLength) {
        throw invalidPassword(`Password must be at most ${maxLength} characters.`);
      }
      const lower = normalized.toLowerCase();
      const username = normalizePassword(context.username).trim().toLowerCase();
      if ([...username].length >= USERNAME_RULE_MIN_LENGTH && lower.includes(username)) {
        throw invalidPassword("Password must not contain the username.");
      }
      const unit = repeatedUnit([...lower]);
      if (unit !== null && ([...unit].length <= TRIVIAL_REPEAT_UNIT || isCommonPassword(unit))) {
        throw invalidPassword("Password must not be a short or common group of characters repeated (like “aaaa…” or “abcabc…”).");
      }
      if (isCommonPassword(lower)) {
        throw invalidPassword("Password is on a list of common or breached passwords. Choose a less predictable one.");
      }
    },
  };
}
