import type { Request } from "express";
import { AuthError } from "../core/errors.ts";

/**
 * Extracts the token from `Authorization: Bearer <token>`. Returns undefined when no
 * Authorization header was sent; throws invalid_token for any other scheme or shape.
 */
export function readBearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const space = header.indexOf(" ");
  if (space === -1 || header.slice(0, space).toLowerCase() !== "bearer") {
    throw new AuthError("invalid_token", "Send the access token as: Authorization: Bearer <token>.", {
      tokenPresented: true,
    });
  }
  const token = header.slice(space + 1).trim();
  // Only the shape of the header is checked here; the verifier's strict base64url rules do the rest.
  if (token.length === 0 || token.includes(" ")) {
    throw new AuthError("invalid_token", "The bearer token is malformed.", { tokenPresented: true });
  }
  return token;
}

/** How many Authorization headers came (Node keeps only the first in `req.headers`). */
function authorizationHeaderCount(req: Request): number {
  if (req.headers.authorization === undefined) return 0;
  let count = 0;
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 13 && name.toLowerCase() === "authorization") count++;
  }
  return count;
}

/** `access_token` query parameters (RFC 6750 §2.3); the query is parsed only when it could hold one. */
function queryTokenCount(req: Request): number {
  const url = req.originalUrl;
  const mark = url.indexOf("?");
  if (mark === -1) return 0;
  const query = url.slice(mark + 1);
  if (!query.includes("access") && !query.includes("%")) return 0;
  return new URLSearchParams(query).getAll("access_token").length;
}

/** An `access_token` field in a body some middleware has already parsed (RFC 6750 §2.2, or JSON). */
function bodyTokenCount(req: Request): number {
  const body: unknown = req.body;
  return body !== null && typeof body === "object" && Object.hasOwn(body, "access_token") ? 1 : 0;
}

/**
 * Gatehouse reads the access token only from the Authorization header, but a request that
 * carries one in more than one place (header, `access_token` query parameter, `access_token`
 * body field) or repeats one is refused with `400 invalid_request` (RFC 6750 §3.1): a layer in
 * front that reads another place would otherwise act on a different token than the one
 * verified here. Call it before acting on anything else in the request.
 */
export function assertOneTokenPlace(req: Request): void {
  if (authorizationHeaderCount(req) + queryTokenCount(req) + bodyTokenCount(req) > 1) {
    throw new AuthError("invalid_request", "Send the access token once, in the Authorization header only.", {
      tokenPresented: true,
    });
  }
}

/** The bearer token of a request (see assertOneTokenPlace), or undefined when none was sent. */
export function bearerTokenOf(req: Request): string | undefined {
  assertOneTokenPlace(req);
  return readBearerToken(req.headers.authorization);
}

export function missingBearer(): AuthError {
  return new AuthError("invalid_token", "This route needs an access token: Authorization: Bearer <token>.", {
    tokenPresented: false,
  });
}
