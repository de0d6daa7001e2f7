import { z } from "zod";

/**
 * What each route answers, as zod schemas. The OpenAPI document is generated from these and the
 * test suite checks real answers against that document, so a field added to an answer without
 * being added here fails a test.
 */

const isoTime = z.iso.datetime();

export const publicUserSchema = z.object({ id: z.string(), username: z.string() });

export const registeredResponse = z.object({ user: publicUserSchema });

/** RFC 6749 §5.1. `refresh_token` only for a client that asked for it in the body (native apps). */
export const tokenResponse = z.object({
  access_token: z.string().describe("The access token, a JWT (RFC 9068)."),
  token_type: z.literal("Bearer"),
  expires_in: z.number().int().positive().describe("Seconds until the access token expires."),
  refresh_token: z
    .string()
    .optional()
    .describe('Only when the request asked for token_transport "body" and carried no refresh cookie.'),
});

/** A right password when the account has a second factor: no token yet; finish at /login/mfa or with a passkey. */
export const mfaChallengeResponse = z.object({
  mfa_required: z.literal(true),
  mfa_token: z.string().describe("Opaque, single use, 5 minutes, 5 tries; only for the second step."),
  methods: z.array(z.string()).describe('What the account offers: "totp", "recovery_code", "webauthn".'),
});

export const sessionsResponse = z.object({
  sessions: z.array(
    z.object({
      id: z.string(),
      created_at: isoTime,
      last_used_at: isoTime,
      expires_at: isoTime,
      user_agent: z.string().nullable(),
      ip: z.string().nullable(),
      current: z.boolean().describe("Whether this is the session of the access token that asked."),
    }),
  ),
  next_cursor: z.string().nullable().describe("Pass as `?before=` for the next page; null on the last page."),
});

export const meResponse = z.object({
  user: publicUserSchema.extend({
    email: z.string().nullable().describe("The account's address, or null."),
    email_verified: z.boolean().describe("Whether the address was proven by a mailed link."),
  }),
  session_id: z.string(),
});

/** RFC 7662 §2.2; `sid` and `roles` are Gatehouse's extensions. */
export const introspectionResponse = z.discriminatedUnion("active", [
  z.object({ active: z.literal(false) }).describe("Expired, revoked, ended, unknown, malformed: nothing more is said."),
  z.object({
    active: z.literal(true),
    token_type: z.enum(["access_token", "refresh_token"]),
    sub: z.string().describe("User id."),
    sid: z.string().describe("Session id."),
    iss: z.string(),
    aud: z.union([z.string(), z.array(z.string())]).describe("For a refresh token: the issuer, its only redeemer."),
    exp: z.number().int(),
    iat: z.number().int(),
    nbf: z.number().int().optional(),
    jti: z.string().optional(),
    scope: z.string().optional(),
    roles: z.array(z.string()).optional(),
  }),
]);

/** RFC 7517 §5, public members only. */
export const jwksResponse = z.object({
  keys: z.array(
    z.looseObject({
      kty: z.string(),
      kid: z.string(),
      alg: z.string(),
      use: z.literal("sig"),
    }),
  ),
});

export const healthResponse = z.object({ status: z.literal("ok") });

const readinessChecks = z.object({
  database: z.enum(["ok", "failing", "unknown"]),
  schema: z.enum(["ok", "failing", "unknown"]),
  keys: z.enum(["ok", "failing", "unknown"]),
});

export const readyResponse = z.object({ status: z.literal("ready"), checks: readinessChecks });

/** `/readyz` when not ready: the usual error body plus what failed, for whoever runs the instance. */
export const notReadyResponse = z.object({
  error: z.literal("unavailable"),
  message: z.string(),
  draining: z.boolean(),
  checks: readinessChecks,
});

export const helloResponse = z.object({
  message: z.string(),
  user_id: z.string(),
  session_id: z.string(),
  token_expires_at: isoTime,
});

/** Any JSON object: the OpenAPI document itself is checked by an OpenAPI validator, not by this. */
export const openApiResponse = z.looseObject({ openapi: z.string() });
