import type { Request } from "express";
import { z } from "zod";
import { AuthError } from "../core/errors.ts";

/** Upper bounds keep hashing and normalisation cheap; the policy has the real rules. */
const username = z.string().min(1).max(256);
const password = z.string().min(1).max(4096);
const transport = z.enum(["cookie", "body"]).optional();

export const credentialsBody = z.object({ username, password }).strict();
export const loginBody = z.object({ username, password, token_transport: transport }).strict();
export const refreshBody = z
  .object({ refresh_token: z.string().max(512).optional(), token_transport: transport })
  .strict();
export const passwordChangeBody = z.object({ current_password: password, new_password: password }).strict();

/** Long enough for every message built here; a cap all the same, so no input can grow it. */
const MAX_MESSAGE_LENGTH = 200;

/**
 * Parses a JSON body against a schema; any mismatch is a 400 naming the field. Only the
 * schema's own field names are ever named: an unknown key is the client's text (it may be a
 * token sent in the wrong place, or 15 KB of junk), so it is never repeated back.
 */
export function parseBody<S extends z.ZodObject>(schema: S, req: Request): z.output<S> {
  const body: unknown = req.body ?? {};
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const known = Object.keys(schema.shape);
  const issue = result.error.issues[0];
  const field = issue?.path[0];
  let detail: string;
  if (issue?.code === "unrecognized_keys") detail = `unknown field(s); the fields accepted here are ${known.join(", ")}`;
  else if (typeof field === "string" && known.includes(field)) detail = `field "${field}" ${problemOf(issue)}`;
  else detail = "the body must be a JSON object";
  throw new AuthError("invalid_request", `Invalid request body: ${detail}.`.slice(0, MAX_MESSAGE_LENGTH));
}

function problemOf(issue: z.core.$ZodIssue | undefined): string {
  return issue?.code === "invalid_type" ? "is missing or has the wrong type" : "is invalid";
}
