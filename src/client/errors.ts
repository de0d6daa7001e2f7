import type { AuthErrorCode } from "../core/errors.ts";

/**
 * Error codes the client can report: every `error` code of the Gatehouse HTTP API, plus
 * `network_error` (the request never got an answer) and `unexpected_response` (an answer
 * that is not Gatehouse JSON, e.g. an HTML page from a proxy).
 */
export type GatehouseErrorCode = Exclude<AuthErrorCode, "invalid_config"> | "network_error" | "unexpected_response";

/**
 * What every client method throws. `code` is the server's `error` code (or one of the two
 * client-side codes), `status` the HTTP status (0 when there was no answer), `message` the
 * server's human sentence, and `retryAfter` the `Retry-After` seconds of a 429 or 503.
 */
export class GatehouseClientError extends Error {
  override readonly name = "GatehouseClientError";
  /** The server's `error` code, or `network_error` / `unexpected_response`. */
  readonly code: GatehouseErrorCode | (string & {});
  /** HTTP status; 0 when the request got no answer. */
  readonly status: number;
  /** Seconds to wait before trying again, from `Retry-After`. */
  readonly retryAfter: number | undefined;

  constructor(
    code: GatehouseErrorCode | (string & {}),
    status: number,
    message: string,
    options: { retryAfter?: number | undefined; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = status;
    this.retryAfter = options.retryAfter;
  }
}

/** True for a GatehouseClientError, optionally with the given code. */
export function isGatehouseClientError(value: unknown, code?: GatehouseErrorCode): value is GatehouseClientError {
  return value instanceof GatehouseClientError && (code === undefined || value.code === code);
}

/** `Retry-After` is either delta-seconds or an HTTP date. */
export function parseRetryAfter(header: string | null, now: number): number | undefined {
  if (header === null) return undefined;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - now) / 1000));
}

/** Turns a non-2xx response into a GatehouseClientError, reading the `{error, message}` body. */
export async function errorFromResponse(response: Response, now: number): Promise<GatehouseClientError> {
  const retryAfter = parseRetryAfter(response.headers.get("Retry-After"), now);
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  if (isErrorBody(body)) return new GatehouseClientError(body.error, response.status, body.message, { retryAfter });
  return new GatehouseClientError(
    "unexpected_response",
    response.status,
    `The server answered HTTP ${response.status} without a Gatehouse error body.`,
    { retryAfter },
  );
}

function isErrorBody(body: unknown): body is { error: string; message: string } {
  if (typeof body !== "object" || body === null) return false;
  const { error, message } = body as Record<string, unknown>;
  return typeof error === "string" && typeof message === "string";
}
