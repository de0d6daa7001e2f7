import { createRequire } from "node:module";
import type { MatchExtended, ZxcvbnFactory } from "@zxcvbn-ts/core";

/**
 * How many guesses a cracker needs, estimated by zxcvbn-ts: it finds the cheapest way to build
 * the password from dictionary words (common passwords, English words and names, the username),
 * keyboard walks, repeats, sequences, dates and years, and counts the guesses that takes.
 */

/**
 * Passwords need an estimated 10^10 guesses: zxcvbn's top score, "strong protection from an
 * offline attack on a slow hash". Below that sit two common words ("purple dishwasher", ~10^8),
 * a word with a year and the word again ("summer2023summer", 10^8) and every keyboard walk.
 */
export const MIN_GUESSES_LOG10 = 10;
/**
 * Only this many characters are scored: matching costs grow faster than the length, and 64
 * characters that are hard to guess make the whole password hard to guess. A longer password is
 * judged by its start, which the refusal message says.
 */
export const SCORED_CHARACTERS = 64;
/**
 * zxcvbn tries this many look-alike substitution variants (0 for o, @ for a) per password. Its
 * default (100) makes a 64-character check cost hundreds of milliseconds; 3 finds the same weak
 * passwords in every case we measured and keeps a check to a few tens of milliseconds.
 */
const L33T_VARIANTS = 3;

type ZxcvbnModule = typeof import("@zxcvbn-ts/core");
type LanguageCommon = typeof import("@zxcvbn-ts/language-common");
type LanguageEnglish = typeof import("@zxcvbn-ts/language-en");

/** Builds the estimator with its dictionaries: about 24 MB of heap and 200 ms of CPU. */
export function buildEstimator(): ZxcvbnFactory {
  const require = createRequire(import.meta.url);
  const { ZxcvbnFactory: Factory } = require("@zxcvbn-ts/core") as ZxcvbnModule;
  const common = require("@zxcvbn-ts/language-common") as LanguageCommon;
  const english = require("@zxcvbn-ts/language-en") as LanguageEnglish;
  return new Factory({
    dictionary: { ...common.dictionary, ...english.dictionary },
    graphs: common.adjacencyGraphs,
    l33tMaxSubstitutions: L33T_VARIANTS,
    // Counted in UTF-16 units by zxcvbn; the text is already cut to SCORED_CHARACTERS code points.
    maxLength: SCORED_CHARACTERS * 2,
  });
}

/** One part of the cheapest way zxcvbn found to build the text (the fields a refusal is explained with). */
export interface GuessPart {
  /** "dictionary", "spatial", "sequence", "repeat", "date", "regex", "bruteforce", … */
  pattern: string;
  token: string;
  dictionaryName?: string;
  l33t?: boolean;
  reversed?: boolean;
}

export interface GuessEstimate {
  /** log10 of the estimated number of guesses for the scored characters. */
  guessesLog10: number;
  /** How many characters (code points) were scored: at most SCORED_CHARACTERS. */
  scoredCharacters: number;
  /** Whether the text was longer than what was scored. */
  truncated: boolean;
  /** The cheapest way zxcvbn found to build the text, for explaining a refusal. */
  parts: readonly GuessPart[];
}

const partOf = (match: MatchExtended): GuessPart => {
  const part: GuessPart = { pattern: match.pattern, token: match.token };
  if (typeof match["dictionaryName"] === "string") part.dictionaryName = match["dictionaryName"];
  if (match["l33t"] === true) part.l33t = true;
  if (match["reversed"] === true) part.reversed = true;
  return part;
};

/**
 * Estimates, with `estimator`, the guesses needed for the first SCORED_CHARACTERS code points
 * of `text`. `userInputs` (such as the username) count as words a cracker would try first.
 */
export function estimateWith(estimator: ZxcvbnFactory, text: string, userInputs: readonly string[]): GuessEstimate {
  const codePoints = [...text];
  const scored = codePoints.slice(0, SCORED_CHARACTERS);
  const result = estimator.check(scored.join(""), [...userInputs]);
  return {
    guessesLog10: result.guessesLog10,
    scoredCharacters: scored.length,
    truncated: codePoints.length > scored.length,
    parts: result.sequence.map(partOf),
  };
}

/**
 * The estimator of this thread, held strongly for a minute after its last use and weakly after
 * that. The synchronous estimate is for rare checks (a configured secret, at start-up), and 24 MB
 * of dictionaries kept for good in the main heap made every full garbage collection about twice
 * as long (measured: 5 -> 12 ms pauses). Password checks on requests use the worker instead
 * (guessability-checker.ts), whose heap is its own.
 */
const HOLD_MS = 60_000;
let held: WeakRef<ZxcvbnFactory> | undefined;
let strong: ZxcvbnFactory | undefined;
let release: ReturnType<typeof setTimeout> | undefined;

/** `estimateWith` on this thread, building the estimator if the last one was collected. */
export function estimateGuesses(text: string, userInputs: readonly string[] = []): GuessEstimate {
  let estimator = strong ?? held?.deref();
  if (estimator === undefined) {
    estimator = buildEstimator();
    held = new WeakRef(estimator);
  }
  strong = estimator;
  clearTimeout(release);
  release = setTimeout(() => {
    strong = undefined;
  }, HOLD_MS);
  release.unref();
  return estimateWith(estimator, text, userInputs);
}

/**
 * Whether the estimate reaches the bar: 10^10 guesses, or for text shorter than 10 characters
 * (possible only when the minimum length is lowered) no recognisable part at all, since zxcvbn
 * counts an unrecognised character as 10 guesses.
 */
export function isHardToGuess(estimate: GuessEstimate): boolean {
  const bar = Math.min(MIN_GUESSES_LOG10, estimate.scoredCharacters);
  return estimate.guessesLog10 >= bar - 1e-9;
}

/** One plain phrase per kind of part zxcvbn recognised, in the order they are worth mentioning. */
function describePart(part: GuessPart): string | null {
  switch (part.pattern) {
    case "spatial":
      return "follows a keyboard pattern";
    case "sequence":
      return "contains a run of characters (like “abc” or “123”)";
    case "repeat":
      return "repeats characters or a group of characters";
    case "date":
    case "regex":
      return "contains a date or a year";
    case "wordSequence":
      return "is a common sequence of words";
    case "dictionary": {
      const name = part.dictionaryName ?? "";
      if (name === "userInputs") return "contains your username";
      if (part.l33t === true) return "spells a common word with look-alike characters (like 0 for o)";
      if (part.reversed === true) return "contains a common word spelled backwards";
      if (name.startsWith("passwords")) return "contains a commonly used password";
      if (name.includes("names")) return "is made of common names";
      return "is made of common words";
    }
    default:
      return null;
  }
}

/**
 * Why the estimate is too low, as the end of a sentence starting "it …", naming at most two
 * kinds of weakness, the longest parts first.
 */
export function explainWeakness(estimate: GuessEstimate): string {
  const phrases: string[] = [];
  const longestFirst = [...estimate.parts].sort((a, b) => b.token.length - a.token.length);
  for (const part of longestFirst) {
    const phrase = describePart(part);
    if (phrase !== null && !phrases.includes(phrase)) phrases.push(phrase);
    if (phrases.length === 2) break;
  }
  if (phrases.length === 0) phrases.push("is too short to be hard to guess");
  return phrases.join(" and ");
}
