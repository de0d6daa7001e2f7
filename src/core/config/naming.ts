import { AuthError } from "../errors.ts";

/** A setting that is wrong, named the way the user set it. */
export interface Problem {
  /** Dotted option path of the setting. */
  readonly path: string;
  /** The name the user knows: the option path in code, the variable from the environment. */
  readonly setting: string;
  /** One sentence starting with that name, never with a sensitive value. */
  readonly message: string;
}

/** How messages name a setting. */
export interface Naming {
  /** Inside a sentence: `password.minLength` or `PASSWORD_MIN_LENGTH`. */
  name(path: string): string;
  /** At the start of a sentence: `Gatehouse option "password.minLength"` or `PASSWORD_MIN_LENGTH`. */
  subject(path: string): string;
}

/** Names for options given in code. */
export const OPTION_NAMING: Naming = {
  name: (path) => path,
  subject: (path) => `Gatehouse option "${path}"`,
};

/** Names for settings read from the environment; a setting without a variable keeps its option path. */
export function environmentNaming(variableOf: (path: string) => string | undefined): Naming {
  return {
    name: (path) => variableOf(path) ?? path,
    subject: (path) => variableOf(path) ?? `Gatehouse option "${path}"`,
  };
}

/** Throws the first problem, if any, as AuthError("invalid_config"). */
export function throwFirst(problems: readonly Problem[]): void {
  const first = problems[0];
  if (first) throw new AuthError("invalid_config", first.message);
}

/** A value for a message: short, escaped, and never a sensitive one. */
export function describeValue(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return String(value);
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : typeof value;
}
