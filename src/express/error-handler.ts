import type { ErrorRequestHandler, Response } from "express";
import type { Logger } from "pino";
import { AuthError, isAuthError } from "../core/errors.ts";
import { bearerChallenge, httpStatusFor } from "./http-status.ts";

/** Sends an AuthError as `{error, message}` with its status and headers. */
export function sendAuthError(res: Response, error: AuthError, realm: string): void {
  const challenge = bearerChallenge(error, realm);
  if (challenge) res.setHeader("WWW-Authenticate", challenge);
  if (error.retryAfter !== undefined) res.setHeader("Retry-After", String(Math.max(1, Math.ceil(error.retryAfter))));
  res.setHeader("Cache-Control", "no-store");
  res.status(httpStatusFor(error.code)).json({ error: error.code, message: error.message });
}

interface HttpParserError {
  type?: string;
  status?: number;
  expose?: boolean;
}

/** body-parser's failures, translated into the contract's codes. */
function fromBodyParser(err: HttpParserError): AuthError | undefined {
  switch (err.type) {
    case "entity.too.large":
      return new AuthError(
        "payload_too_large",
        "The request body is too large. The limit is 16 KiB unless configured otherwise.",
      );
    case "entity.parse.failed":
      return new AuthError("invalid_request", "The request body is not valid JSON.");
    case "charset.unsupported":
    case "encoding.unsupported":
      return new AuthError("unsupported_media_type", "Send the body as UTF-8 JSON without content encoding.");
    case "request.aborted":
    case "request.size.invalid":
    case "stream.encoding.set":
      return new AuthError("invalid_request", "The request body could not be read.");
    default:
      if (typeof err.status === "number" && err.status >= 400 && err.status < 500) {
        return new AuthError("invalid_request", "The request could not be understood.");
      }
      return undefined;
  }
}

/**
 * Last error middleware: every failure leaves as the contract's JSON. Unknown errors are
 * logged (without request secrets — the logger redacts them) and answered as a bare 500.
 */
export function errorHandler(logger: Logger, realm: string): ErrorRequestHandler {
  return (err: unknown, _req, res, _next) => {
    const known = isAuthError(err) ? err : fromBodyParser((err ?? {}) as HttpParserError);
    if (res.headersSent) {
      res.end();
      return;
    }
    if (known) {
      if (known.code === "unavailable") logger.warn({ cause: describeCause(known.cause) }, "database unavailable");
      sendAuthError(res, known, realm);
      return;
    }
    logger.error({ err }, "unhandled error");
    sendAuthError(res, new AuthError("internal_error", "Something went wrong on our side. Try again."), realm);
  };
}

function describeCause(cause: unknown): string | undefined {
  return cause instanceof Error ? `${cause.name}: ${cause.message}` : undefined;
}
