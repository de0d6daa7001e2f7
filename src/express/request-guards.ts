import type { Request } from "express";
import { AuthError } from "../core/errors.ts";

const JSON_TYPE = /^application\/([a-z0-9.+-]*\+)?json\s*(;|$)/i;

/** `application/json` or `application/<something>+json`, with optional parameters. */
export function isJsonContentType(type: string | undefined): boolean {
  return typeof type === "string" && JSON_TYPE.test(type);
}

/** CONTRACT §2: POSTs carry JSON. Also a CSRF defence: cross-site forms cannot send it. */
export function assertJsonContentType(req: Request): void {
  if (!isJsonContentType(req.headers["content-type"])) {
    throw new AuthError("unsupported_media_type", "Send the request as JSON with Content-Type: application/json.");
  }
}

/** The origin this request was addressed to, as the browser would write it. */
function ownOrigin(req: Request): string | undefined {
  const host = req.get("host");
  return host ? `${req.protocol}://${host}` : undefined;
}

/**
 * CSRF rule for cookie-authenticated POSTs (refresh, logout): a browser always sends
 * `Origin` on POST, so it must be our own or an allowed one; `Sec-Fetch-Site: cross-site`
 * is refused outright. Requests with neither header come from non-browser clients,
 * which cannot be driven cross-site.
 */
export function assertAllowedOrigin(req: Request, allowedOrigins: readonly string[]): void {
  const origin = req.headers.origin;
  const site = req.headers["sec-fetch-site"];
  if (origin !== undefined) {
    if (origin === ownOrigin(req) || allowedOrigins.includes(origin)) return;
    throw new AuthError(
      "forbidden_origin",
      "This request came from an origin that is not allowed to use the session cookie.",
    );
  }
  if (site === "cross-site") {
    throw new AuthError("forbidden_origin", "Cross-site requests may not use the session cookie.");
  }
}
