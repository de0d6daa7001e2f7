/**
 * Writing-system checks for usernames, after Unicode Technical Standard #39 (Unicode Security
 * Mechanisms): a name may use one script (plus Common and Inherited characters such as digits
 * and combining accents), or one of the combinations its "highly restrictive" level allows
 * with Latin (Japanese, Chinese with Bopomofo, Korean). Only the scripts UAX #31 recommends
 * for identifiers count; a letter from any other script has no candidate and is refused.
 */

/** UAX #31 Table 7, the scripts in customary modern use (Common and Inherited are handled apart). */
const RECOMMENDED_SCRIPTS = [
  "Arabic",
  "Armenian",
  "Bengali",
  "Bopomofo",
  "Cyrillic",
  "Devanagari",
  "Ethiopic",
  "Georgian",
  "Greek",
  "Gujarati",
  "Gurmukhi",
  "Han",
  "Hangul",
  "Hebrew",
  "Hiragana",
  "Kannada",
  "Katakana",
  "Khmer",
  "Lao",
  "Latin",
  "Malayalam",
  "Myanmar",
  "Oriya",
  "Sinhala",
  "Tamil",
  "Telugu",
  "Thaana",
  "Thai",
  "Tibetan",
];

/** Script sets that count as one writing system: UTS #39 §5.1 augmentation and the §5.2 Latin combinations. */
const COMBINED_SCRIPTS: Record<string, readonly string[]> = {
  Japanese: ["Han", "Hiragana", "Katakana"],
  Chinese: ["Han", "Bopomofo"],
  Korean: ["Han", "Hangul"],
  "Latin+Japanese": ["Latin", "Han", "Hiragana", "Katakana"],
  "Latin+Chinese": ["Latin", "Han", "Bopomofo"],
  "Latin+Korean": ["Latin", "Han", "Hangul"],
};

/** Script_Extensions, not Script: a character shared by several scripts (like "ー") fits each of them. */
const classOf = (scripts: readonly string[]) => new RegExp(`^[${scripts.map((s) => `\\p{scx=${s}}`).join("")}]$`, "u");

const CANDIDATES: readonly (readonly [name: string, test: RegExp])[] = [
  ...RECOMMENDED_SCRIPTS.map((script) => [script, classOf([script])] as const),
  ...Object.entries(COMBINED_SCRIPTS).map(([name, scripts]) => [name, classOf(scripts)] as const),
];

/** Characters of no particular script (digits, "._@+-") or inheriting the script of the letter before (accents). */
const SCRIPT_NEUTRAL = /^[\p{scx=Common}\p{scx=Inherited}]$/u;

/**
 * Whether every letter of `name` fits one writing system: the intersection of the candidate
 * scripts of its characters is not empty.
 *
 * @example
 * isSingleScript("paypal"); // true
 * isSingleScript("p\u0430ypal"); // false: Latin with a Cyrillic "а"
 * isSingleScript("山田taro"); // true: Latin with Han is a Japanese combination
 */
export function isSingleScript(name: string): boolean {
  let candidates = CANDIDATES;
  for (const character of name) {
    if (SCRIPT_NEUTRAL.test(character)) continue;
    candidates = candidates.filter(([, test]) => test.test(character));
    if (candidates.length === 0) return false;
  }
  return true;
}

/**
 * Cyrillic and Greek letters that are drawn like a Latin letter (from the Unicode confusables
 * data, the subset browsers use to flag whole-script lookalike domain names).
 */
const LATIN_LOOKALIKES = new Set([
  ..."аеорсухіјѕԁһӏԛԝгпьъүѵѡ", // Cyrillic lower case
  ..."АВЕКМНОРСТХІЈЅԜУҮ", // Cyrillic upper case
  ..."αικνορτυχγ", // Greek lower case
  ..."ΑΒΕΖΗΙΚΜΝΟΡΤΥΧ", // Greek upper case
]);

/**
 * Whether `name` (one script, already checked) is a Cyrillic or Greek name made only of letters
 * that look Latin, such as "раураӏ": a whole-script lookalike of a Latin name (UTS #39 §4).
 */
export function isWholeScriptLatinLookalike(name: string): boolean {
  let letters = 0;
  for (const character of name) {
    if (!/\p{L}/u.test(character)) continue;
    if (!LATIN_LOOKALIKES.has(character)) return false;
    letters++;
  }
  return letters > 0;
}
