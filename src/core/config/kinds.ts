import { z } from "zod";
import { parseDurationSeconds } from "../duration.ts";

/**
 * What the values of one setting look like: how a value given in code is checked (a zod
 * schema), how the text of an environment variable or command-line flag becomes a value, and
 * the words messages and docs use for both.
 */
export interface Kind<T> {
  /** Checks a value given in code. */
  readonly schema: z.ZodType<T>;
  /** A valid value in words, completing "must be …": "a whole number from 1 to 10". */
  readonly expected: string;
  /** Text → value, or undefined when the text is not one. Absent: the setting is code-only. */
  readonly fromText?: (text: string) => T | undefined;
  /** A valid text in words, completing "must be …". */
  readonly expectedText: string;
  /** The allowed values in a few words, for the docs' table: "1–10", "1s–1d", "open, closed". */
  readonly summary: string;
  /** The numeric range, for number-like kinds. */
  readonly range?: { readonly min: number; readonly max: number };
  /** The same kind over a narrower range (one environment variable feeding several settings). */
  within?(min: number, max: number): Kind<T>;
  /**
   * A check the schema cannot express. Returns the whole sentence, starting with `subject`
   * (how the user named the setting), or undefined when the value is fine.
   */
  check?(value: T, subject: string): string | undefined;
  /** A value as written in code, for docs. */
  show(value: T): string;
  /** A value as written in the environment, for docs and `doctor`. */
  showText(value: T): string;
}

const UNITS: readonly [string, number][] = [
  ["d", 86_400],
  ["h", 3600],
  ["m", 60],
];

/** Seconds in the largest unit that divides them: 900 → "15m", 86400 → "1d", 5 → "5s". */
export function formatDuration(seconds: number): string {
  if (seconds === 0) return "0";
  for (const [unit, size] of UNITS) if (seconds % size === 0) return `${seconds / size}${unit}`;
  return `${seconds}s`;
}

const WHOLE_NUMBER_TEXT = /^[+-]?\d{1,16}$/;

/** An integer from `min` to `max`. Text: decimal digits. */
export function wholeNumber(min: number, max: number): Kind<number> {
  const expected = `a whole number from ${min} to ${max}`;
  return {
    schema: z.number().int().min(min).max(max),
    expected,
    expectedText: expected,
    fromText: (text) => (WHOLE_NUMBER_TEXT.test(text.trim()) ? Number(text.trim()) : undefined),
    summary: `${min}–${max}`,
    range: { min, max },
    within: (low, high) => wholeNumber(low, high),
    show: String,
    showText: String,
  };
}

/** Whole seconds from `min` to `max`. Text: `900`, `30s`, `15m`, `12h`, `7d`. */
export function seconds(min: number, max: number): Kind<number> {
  const span = `from ${formatDuration(min)} to ${formatDuration(max)}`;
  return {
    schema: z.number().int().min(min).max(max),
    expected: `a whole number of seconds from ${min} to ${max}`,
    expectedText: `a duration like 900, 30s, 15m, 12h or 7d, ${span}`,
    fromText: parseDurationSeconds,
    summary: `${formatDuration(min)}–${formatDuration(max)}`,
    range: { min, max },
    within: (low, high) => seconds(low, high),
    show: String,
    showText: formatDuration,
  };
}

const TRUE_WORDS = ["true", "1", "yes", "on"];
const FALSE_WORDS = ["false", "0", "no", "off"];

/**
 * true or false. Text: `true`/`1`/`yes`/`on` and `false`/`0`/`no`/`off`, or the two words
 * given (`REGISTRATION=open|closed`), case-insensitive.
 */
export function yesNo(words?: { yes: string; no: string }): Kind<boolean> {
  const yes = words ? [words.yes] : TRUE_WORDS;
  const no = words ? [words.no] : FALSE_WORDS;
  return {
    schema: z.boolean(),
    expected: "true or false",
    expectedText: words ? `${words.yes} or ${words.no}` : "true or false",
    summary: words ? `${words.yes}, ${words.no}` : "true, false",
    fromText: (text) => {
      const word = text.trim().toLowerCase();
      if (yes.includes(word)) return true;
      return no.includes(word) ? false : undefined;
    },
    show: String,
    showText: (value) => (value ? yes[0] : no[0]) ?? String(value),
  };
}

/** One of a fixed list of words, exactly as listed. */
export function oneOf<const T extends string>(values: readonly [T, ...T[]]): Kind<T> {
  const expected = `one of ${values.join(", ")}`;
  return {
    schema: z.enum(values as unknown as [T, ...T[]]) as unknown as z.ZodType<T>,
    expected,
    expectedText: expected,
    summary: values.join(", "),
    fromText: (text) => values.find((value) => value === text.trim()),
    show: (value) => value,
    showText: (value) => value,
  };
}

/** Text of 1 to `max` characters, optionally matching `pattern` (described by `rule`). */
export function text(options: { max: number; pattern?: RegExp; rule?: string }): Kind<string> {
  let schema = z.string().min(1).max(options.max);
  if (options.pattern) schema = schema.regex(options.pattern);
  const expected = options.rule ?? `text of 1 to ${options.max} characters`;
  return {
    schema,
    expected,
    expectedText: expected,
    summary: expected,
    fromText: (value) => value,
    show: (value) => value,
    showText: (value) => value,
  };
}

/** A setting that may be left unset: undefined is its value then. */
export function optional<T>(kind: Kind<T>): Kind<T | undefined> {
  return {
    ...kind,
    schema: kind.schema.optional(),
    check: (value, subject) => (value === undefined ? undefined : kind.check?.(value, subject)),
    show: (value) => (value === undefined ? "unset" : kind.show(value)),
    showText: (value) => (value === undefined ? "unset" : kind.showText(value)),
  };
}

/** The origin (scheme, host, port) of an http(s) URL, or undefined. */
function httpOrigin(value: string): string | undefined {
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:" ? url.origin : undefined;
  } catch {
    return undefined;
  }
}

/** A list of http(s) origins, each reduced to scheme://host:port. Text: comma-separated. */
export function origins(): Kind<string[]> {
  const expected = "a list of origins like https://app.example.com";
  return {
    schema: z.array(z.string()).transform((list) => list.map((entry) => httpOrigin(entry) ?? entry)),
    expected,
    expectedText: "a comma-separated list of origins like https://app.example.com",
    summary: "http(s) origins",
    fromText: (value) =>
      value
        .split(",")
        .map((entry) => entry.trim())
        .filter((entry) => entry !== ""),
    check(value, subject) {
      const bad = value.find((entry) => httpOrigin(entry) === undefined);
      return bad === undefined
        ? undefined
        : `${subject} must be ${expected} (bad entry ${JSON.stringify(bad.slice(0, 60))}).`;
    },
    show: (value) => JSON.stringify(value),
    showText: (value) => value.join(","),
  };
}

/** A value only code can give (an object, a function), checked by `schema`. */
export function codeOnly<T>(schema: z.ZodType<T>, expected: string, show: (value: T) => string): Kind<T> {
  return { schema, expected, expectedText: expected, summary: expected, show, showText: show };
}
