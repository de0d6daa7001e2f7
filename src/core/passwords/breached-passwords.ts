import { createHash, timingSafeEqual } from "node:crypto";
import { AuthError } from "../errors.ts";

/**
 * Asks a "Have I Been Pwned"-style range API whether a password appeared in a data breach,
 * with k-anonymity: only the first 5 hex characters of the password's SHA-1 leave the server,
 * the answer lists every known suffix under that prefix, and the comparison happens here.
 */

/**
 * `off`: never ask. `check`: ask, and accept the password if the API cannot answer (fail open).
 * `required`: ask, and refuse to set any password while the API cannot answer (fail closed).
 */
export type BreachedPasswordMode = "off" | "check" | "required";

export interface BreachedPasswordOptions {
  mode: BreachedPasswordMode;
  /** The range endpoint; the 5-character prefix is appended. */
  url: string;
  /** How long one lookup may take, connection and answer included. */
  timeoutMs: number;
}

export const DEFAULT_BREACHED_PASSWORDS: Readonly<BreachedPasswordOptions> = Object.freeze({
  mode: "off",
  url: "https://api.pwnedpasswords.com/range/",
  timeoutMs: 2000,
});

const MODES: readonly BreachedPasswordMode[] = ["off", "check", "required"];
const MIN_TIMEOUT_MS = 1;
const MAX_TIMEOUT_MS = 60_000;
/** Plain HTTP only to this machine (a local mirror); elsewhere an attacker on the path could say "not breached". */
const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);
/** A padded answer is about 40 KB (800–1000 lines); anything far larger is not a range answer. */
const MAX_ANSWER_BYTES = 1024 * 1024;
const ANSWER_LINE = /^([0-9A-F]{35}):(\d+)$/i;

/** The lookup could not be done: the API is unreachable, slow, failing or answered nonsense. */
export class BreachCheckUnavailable extends Error {
  override readonly name = "BreachCheckUnavailable";
}

function invalidOption(option: string, message: string): AuthError {
  return new AuthError("invalid_config", `Gatehouse option "password.breached.${option}" ${message}`);
}

/** Fills in defaults and checks the options once, naming the option at fault. */
export function resolveBreachedOptions(input: Partial<BreachedPasswordOptions> = {}): BreachedPasswordOptions {
  const mode = input.mode ?? DEFAULT_BREACHED_PASSWORDS.mode;
  const url = input.url ?? DEFAULT_BREACHED_PASSWORDS.url;
  const timeoutMs = input.timeoutMs ?? DEFAULT_BREACHED_PASSWORDS.timeoutMs;
  if (!MODES.includes(mode)) {
    throw invalidOption("mode", `must be one of ${MODES.join(", ")}; got ${JSON.stringify(mode)}.`);
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    const example = DEFAULT_BREACHED_PASSWORDS.url;
    throw invalidOption("url", `must be an absolute https:// URL of the range API (such as ${example}).`);
  }
  const secure = parsed.protocol === "https:" || (parsed.protocol === "http:" && LOOPBACK_HOSTS.has(parsed.hostname));
  if (!secure) {
    throw invalidOption("url", "must use https:// (plain http:// is allowed only for 127.0.0.1, localhost or [::1]).");
  }
  if (!Number.isInteger(timeoutMs) || timeoutMs < MIN_TIMEOUT_MS || timeoutMs > MAX_TIMEOUT_MS) {
    const range = `from ${MIN_TIMEOUT_MS} to ${MAX_TIMEOUT_MS}`;
    throw invalidOption("timeoutMs", `must be a whole number of milliseconds ${range}; got ${String(timeoutMs)}.`);
  }
  return { mode, url: url.endsWith("/") ? url : `${url}/`, timeoutMs };
}

/** Reads at most MAX_ANSWER_BYTES of the body as text. */
async function readBounded(response: Response): Promise<string> {
  const declared = Number(response.headers.get("content-length") ?? "0");
  if (declared > MAX_ANSWER_BYTES) throw new BreachCheckUnavailable("the answer is too large");
  if (!response.body) return "";
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of response.body) {
    total += chunk.byteLength;
    if (total > MAX_ANSWER_BYTES) throw new BreachCheckUnavailable("the answer is too large");
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("latin1");
}

function describeFailure(error: unknown, timeoutMs: number): string {
  if (error instanceof BreachCheckUnavailable) return error.message;
  if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError")) {
    return `no answer within ${timeoutMs} ms`;
  }
  const cause = error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
  return typeof cause?.code === "string" ? `could not connect (${cause.code})` : "could not connect";
}

/**
 * Whether `password` (already normalised) is listed with a count above zero. Padding entries
 * (count 0, added because of `Add-Padding: true` so the answer's size tells an observer nothing)
 * never match. Every line is compared in constant time, and nothing of the password or its hash
 * is logged or put in an error.
 *
 * @throws BreachCheckUnavailable when the API cannot be reached in time or answers nonsense.
 */
export async function isBreachedPassword(password: string, options: BreachedPasswordOptions): Promise<boolean> {
  const hash = createHash("sha1").update(password, "utf8").digest("hex").toUpperCase();
  const suffix = Buffer.from(hash.slice(5), "latin1");
  let answer: string;
  try {
    const response = await fetch(`${options.url}${hash.slice(0, 5)}`, {
      headers: { "Add-Padding": "true", "User-Agent": "gatehouse-password-check" },
      redirect: "error",
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    if (response.status !== 200) {
      await response.body?.cancel();
      throw new BreachCheckUnavailable(`it answered HTTP ${response.status}`);
    }
    answer = await readBounded(response);
  } catch (error) {
    throw new BreachCheckUnavailable(describeFailure(error, options.timeoutMs), { cause: error });
  }

  const lines = answer.split(/\r?\n/).filter((line) => line.trim() !== "");
  if (lines.length === 0) throw new BreachCheckUnavailable("the answer was empty");
  let breached = false;
  for (const line of lines) {
    const match = ANSWER_LINE.exec(line.trim());
    if (!match) throw new BreachCheckUnavailable("the answer was not in the range format");
    const listed = Buffer.from(match[1]!.toUpperCase(), "latin1");
    // No early exit: the time taken does not depend on where, or whether, the suffix is listed.
    if (timingSafeEqual(listed, suffix) && Number(match[2]) > 0) breached = true;
  }
  return breached;
}
