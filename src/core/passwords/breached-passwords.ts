import { createHash, timingSafeEqual } from "node:crypto";

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

/** Resolved `password.breached.*` settings (defaults, ranges and the https rule: core/config). */
export interface BreachedPasswordOptions {
  mode: BreachedPasswordMode;
  /** The range endpoint, ending in `/`; the 5-character prefix is appended. */
  url: string;
  /** How long one lookup may take, connection and answer included. */
  timeoutMs: number;
}

/** A padded answer is about 40 KB (800–1000 lines); anything far larger is not a range answer. */
const MAX_ANSWER_BYTES = 1024 * 1024;
const ANSWER_LINE = /^([0-9A-F]{35}):(\d+)$/i;

/** The lookup could not be done: the API is unreachable, slow, failing or answered nonsense. */
export class BreachCheckUnavailable extends Error {
  override readonly name = "BreachCheckUnavailable";
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
