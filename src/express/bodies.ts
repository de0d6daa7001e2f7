import type { Request } from "express";
import { z } from "zod";
import { AuthError } from "../core/errors.ts";

/** Upper bounds keep hashing and normalisation cheap; the policy has the real rules. */
const username = z.string().min(1).max(256);
const password = z.string().min(1).max(4096);
const transport = z.enum(["cookie", "body"]).optional();

export const credentialsBody = z.object({ username, password }).strict();
export const loginBody = z.object({ username, password, token_transport: transport }).strict();
export const refreshBody = z.object({ refresh_token: z.string().max(512).optional(), token_transport: transport }).strict();
export const passwordChangeBody = z.object({ current_password: password, new_password: password }).strict();

/** Parses a JSON body against a schema; any mismatch is a 400 naming the field. */
export function parseBody<T>(schema: z.ZodType<T>, req: Request): T {
  const body: unknown = req.body ?? {};
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue?.path.join(".");
  let detail: string;
  if (issue?.code === "unrecognized_keys") detail = `unknown field(s): ${issue.keys.join(", ")}`;
  else if (field) detail = `field "${field}" ${issue?.code === "invalid_type" ? "is missing or has the wrong type" : "is invalid"}`;
  else detail = "the body must be a JSON object";
  throw new AuthError("invalid_request", `Invalid request body: ${detail}.`);
}
