import { AuthError } from "../errors.ts";
import { usernameKey } from "../users/username.ts";
import { BreachCheckUnavailable, type BreachedPasswordOptions, isBreachedPassword } from "./breached-passwords.ts";
import { isCommonPassword } from "./common-passwords.ts";
import { type GuessabilityChecker, sharedGuessabilityChecker } from "./guessability-checker.ts";
import { explainWeakness, isHardToGuess, SCORED_CHARACTERS } from "./password-guessability.ts";

/**
 * Length limits, counted in Unicode code points after NFKC, and the breached-password lookup:
 * the resolved `password.*` settings (defaults and ranges: core/config).
 */
export interface PasswordPolicyOptions {
  minLength: number;
  maxLength: number;
  breached: BreachedPasswordOptions;
}

/** Collaborators of the policy that are not settings. */
export interface PasswordPolicyHooks {
  /**
   * Told when the breached-password lookup could not be done and the password was accepted
   * anyway (mode `check`). Default: a Node process warning. The text holds no secret.
   */
  warn?: (message: string) => void;
  /** Where zxcvbn runs. Default: the process's shared worker thread. */
  guessability?: GuessabilityChecker;
}

/** A validated policy. `check` rejects with `AuthError("invalid_password")` naming the broken rule. */
export interface PasswordPolicy {
  check(password: string, context: { username: string }): Promise<void>;
  readonly options: Readonly<PasswordPolicyOptions>;
}

/** Usernames shorter than this are too likely to occur by chance inside a good password. */
const USERNAME_RULE_MIN_LENGTH = 3;
/** A group of at most this many characters, repeated, is a pattern rather than a password. */
const TRIVIAL_REPEAT_UNIT = 4;
const STRONGER_HINT = "A phrase of four or more unrelated words is both harder to guess and easier to remember.";

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

const defaultWarn = (message: string) => process.emitWarning(message, { code: "GATEHOUSE_BREACHED_PASSWORDS" });

/**
 * Builds the password policy: length limits (15–256 by default), no composition rules, and
 * refusal of the username, trivially repeated patterns, common passwords, passwords that are
 * easy to guess by their structure (estimated with zxcvbn-ts: fewer than 10^10 guesses), and
 * optionally passwords found in data breaches. All judged on the NFKC form, case-insensitively.
 *
 * @example
 * const { password } = resolveConfig({ password: { minLength: 12, breached: { mode: "check" } } });
 * const policy = createPasswordPolicy(password);
 * await policy.check("correct horse battery staple", { username: "alice" }); // ok
 * await policy.check("alice-alice-alice", { username: "alice" }); // rejects with invalid_password
 */
export function createPasswordPolicy(options: PasswordPolicyOptions, hooks: PasswordPolicyHooks = {}): PasswordPolicy {
  const breached = Object.freeze({ ...options.breached });
  const resolved = Object.freeze({ minLength: options.minLength, maxLength: options.maxLength, breached });
  const { minLength, maxLength } = resolved;
  const warn = hooks.warn ?? defaultWarn;
  const guessability = hooks.guessability ?? sharedGuessabilityChecker();

  /** The cheap rules that need nothing but the password itself: they run first, on this thread. */
  function checkLocally(normalized: string, username: string): void {
    const codePoints = [...normalized];
    if (codePoints.length < minLength) {
      throw invalidPassword(`Password must be at least ${minLength} characters.`);
    }
    if (codePoints.length > maxLength) {
      throw invalidPassword(`Password must be at most ${maxLength} characters.`);
    }
    const lower = normalized.toLowerCase();
    if ([...username].length >= USERNAME_RULE_MIN_LENGTH && lower.includes(username)) {
      throw invalidPassword("Password must not contain the username.");
    }
    const unit = repeatedUnit([...lower]);
    if (unit !== null && ([...unit].length <= TRIVIAL_REPEAT_UNIT || isCommonPassword(unit))) {
      throw invalidPassword(
        "Password must not be a short or common group of characters repeated (like “aaaa…” or “abcabc…”).",
      );
    }
    if (isCommonPassword(lower)) {
      throw invalidPassword("Password is on a list of common or breached passwords. Choose a less predictable one.");
    }
  }

  /** zxcvbn's estimate, computed off the event loop (10-20 ms of CPU each). */
  async function checkGuessability(normalized: string, username: string): Promise<void> {
    const estimate = await guessability.estimate(normalized, username === "" ? [] : [username]);
    if (!isHardToGuess(estimate)) {
      const scope = estimate.truncated ? ` (judging its first ${SCORED_CHARACTERS} characters)` : "";
      throw invalidPassword(`Password is too easy to guess: it ${explainWeakness(estimate)}${scope}. ${STRONGER_HINT}`);
    }
  }

  async function checkBreaches(normalized: string): Promise<void> {
    if (breached.mode === "off") return;
    let listed: boolean;
    try {
      listed = await isBreachedPassword(normalized, breached);
    } catch (error) {
      if (!(error instanceof BreachCheckUnavailable)) throw error;
      if (breached.mode === "check") {
        warn(`Breached-password check skipped: ${error.message}. The password was accepted without it.`);
        return;
      }
      throw new AuthError(
        "unavailable",
        "The breached-password check cannot be reached right now, so no new password can be accepted. " +
          "Nothing was changed; try again in a moment.",
        { cause: error },
      );
    }
    if (listed) {
      throw invalidPassword(
        "This password has appeared in a data breach, so attackers try it early. Choose a different one.",
      );
    }
  }

  return {
    options: resolved,
    async check(password, context) {
      const normalized = normalizePassword(password);
      const username = usernameKey(context.username);
      checkLocally(normalized, username);
      await checkGuessability(normalized, username);
      await checkBreaches(normalized);
    },
  };
}
