import type { Request } from "express";
import { z } from "zod";
import { AuthError } from "../core/errors.ts";

/** Half of a surrogate pair (JSON can spell one as `\ud800`): UTF-8 has no encoding for it. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * PostgreSQL refuses NUL in text (the request would fail as if the database were down), and
 * an unpaired surrogate is silently turned into U+FFFD, so two different inputs would match.
 */
const storable = (value: string) => !value.includes("\u0000") && !LONE_SURROGATE.test(value);

/** A string field the database can store as sent. */
const text = (min: number, max: number) => z.string().min(min).max(max).refine(storable, { message: "unstorable" });

/** Upper bounds keep hashing and normalisation cheap; the policy has the real rules. */
const username = text(1, 256);
const password = text(1, 4096);
const transport = z.enum(["cookie", "body"]).optional();

/** Longer than any address (254), so the address check, not the body check, says what is wrong. */
const email = text(1, 1024);
/** Mailed-link tokens are 43 characters; the bound only keeps junk cheap. */
const linkToken = text(1, 512);

export const credentialsBody = z.object({ username, password }).strict();
export const registerBody = z.object({ username, password, email: email.optional() }).strict();
/** By username or by email (exactly one; the route checks which). */
export const loginBody = z
  .object({ username: username.optional(), email: email.optional(), password, token_transport: transport })
  .strict();
export const emailVerifyBody = z.object({ token: linkToken }).strict();
export const emailChangeBody = z.object({ email, current_password: password }).strict();
export const passwordForgotBody = z.object({ email }).strict();
export const passwordResetBody = z.object({ token: linkToken, new_password: password }).strict();
export const refreshBody = z.object({ refresh_token: text(0, 512).optional(), token_transport: transport }).strict();
export const passwordChangeBody = z.object({ current_password: password, new_password: password }).strict();
/** Routes that need no input still take a JSON body (`{}`), so the JSON-only CSRF rule holds for them too. */
export const emptyBody = z.object({}).strict();

/**
 * The form body of the token endpoints (RFC 7662 §2.1, RFC 7009 §2.1). A parameter sent twice
 * arrives as a list and is refused; unknown parameters (`client_id`, ...) are ignored, as OAuth
 * endpoints must (RFC 6749 §3.2). Unknown hints are ignored too: the token's shape tells its kind.
 */
export const tokenBody = z.object({
  token: z.string().min(1).describe("The access token or refresh token."),
  token_type_hint: z.string().max(64).optional().describe('"access_token" or "refresh_token"; not needed.'),
});

/** A TOTP code (spaces allowed, as apps show "123 456") and a recovery code ("ABCDE-FGHIJ"). */
const totpCode = text(1, 16);
const recoveryCode = text(1, 32);
const mfaToken = text(1, 128);
export const totpEnrolBody = z.object({ current_password: password.optional() }).strict();
export const totpConfirmBody = z.object({ code: totpCode }).strict();
export const currentPasswordBody = z.object({ current_password: password }).strict();
export const mfaLoginBody = z
  .object({
    mfa_token: mfaToken,
    code: totpCode.optional(),
    recovery_code: recoveryCode.optional(),
    token_transport: transport,
  })
  .strict();

/** A WebAuthn response as @simplewebauthn/browser makes it; the library checks its fields. */
const webauthnResponse = z.looseObject({ id: text(1, 1024), response: z.looseObject({}) });
const passkeyName = text(1, 64);
export const passkeyOptionsBody = z.object({ current_password: password.optional() }).strict();
export const passkeyRegisterBody = z.object({ response: webauthnResponse, name: passkeyName.optional() }).strict();
export const passkeyRenameBody = z.object({ name: passkeyName }).strict();
export const passkeyLoginOptionsBody = z.object({ mfa_token: mfaToken.optional() }).strict();
export const passkeyLoginBody = z
  .object({ response: webauthnResponse, mfa_token: mfaToken.optional(), token_transport: transport })
  .strict();

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
  if (issue?.code === "unrecognized_keys") {
    detail = `unknown field(s); the fields accepted here are ${known.join(", ")}`;
  } else if (typeof field === "string" && known.includes(field)) detail = `field "${field}" ${problemOf(issue)}`;
  else detail = "the body must be a JSON object";
  throw new AuthError("invalid_request", `Invalid request body: ${detail}.`.slice(0, MAX_MESSAGE_LENGTH));
}

function problemOf(issue: z.core.$ZodIssue | undefined): string {
  if (issue?.code === "invalid_type") return "is missing or has the wrong type";
  if (issue?.code === "custom") return "contains a NUL character or an unpaired surrogate";
  return "is invalid";
}
