import type { Request } from "express";
import { AuthError } from "../core/errors.ts";

/** Session ids are UUIDs (`crypto.randomUUID()`); anything else cannot name a session. */
const SESSION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The `:id` of a session route. A value of another shape (a NUL byte, junk, a very long string)
 * is refused here as the client's mistake, before it can reach the database and fail there.
 */
export function sessionIdParam(req: Request): string {
  const id = req.params["id"];
  if (typeof id !== "string" || !SESSION_ID.test(id)) {
    throw new AuthError("invalid_request", "That is not a session id. List your sessions with GET /auth/sessions.");
  }
  return id;
}
