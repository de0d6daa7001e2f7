import { z } from "zod";
import type { AuthErrorCode } from "../../core/errors.ts";
import {
  currentPasswordBody,
  mfaLoginBody,
  passkeyLoginBody,
  passkeyLoginOptionsBody,
  passkeyOptionsBody,
  passkeyRegisterBody,
  passkeyRenameBody,
  totpConfirmBody,
  totpEnrolBody,
} from "../bodies.ts";
import { tokenResponse } from "../responses.ts";
import type { RouteSpec } from "../route-spec.ts";

const JSON_BODY: readonly AuthErrorCode[] = ["invalid_request", "payload_too_large", "unsupported_media_type"];
const BEARER: readonly AuthErrorCode[] = ["invalid_request", "invalid_token"];
const DATABASE: readonly AuthErrorCode[] = ["unavailable"];

const isoTime = z.iso.datetime();

export const totpEnrolmentResponse = z.object({
  secret: z.string().describe("Base32 TOTP secret (160 bits), shown once."),
  otpauth_uri: z.string().describe("otpauth://totp/… for a QR code (SHA1, 6 digits, 30 s)."),
});
export const recoveryCodesResponse = z.object({
  recovery_codes: z.array(z.string()).describe("Ten single-use codes, shown once."),
});
export const passkeySchema = z.object({
  id: z.string(),
  name: z.string(),
  created_at: isoTime,
  last_used_at: isoTime.nullable(),
  device_type: z.string(),
  backed_up: z.boolean(),
  transports: z.array(z.string()),
});
/** WebAuthn options as @simplewebauthn/server makes them (`optionsJSON` of @simplewebauthn/browser). */
const webauthnOptions = z.looseObject({ challenge: z.string() });

/** Credential ids are base64url of at most 1023 bytes (WebAuthn §5.1). */
export const credentialIdParams = z.object({ id: z.string().regex(/^[A-Za-z0-9_-]{1,1400}$/) });

/** The second-factor and passkey routes, relative to where `auth.router()` is mounted. */
export const secondFactorRoutes = {
  loginMfa: {
    method: "post",
    path: "/login/mfa",
    auth: "none",
    optionalCredentials: ["refresh_cookie"],
    tag: "second factor",
    summary: "Finish a login with a TOTP code or a recovery code",
    body: mfaLoginBody,
    responses: { 200: tokenResponse },
    setsRefreshCookie: true,
    errors: [...JSON_BODY, "invalid_credentials", "invalid_grant", "too_many_requests", ...DATABASE],
  },
  totpEnrol: {
    method: "post",
    path: "/mfa/totp",
    auth: "bearer",
    tag: "second factor",
    summary: "Start TOTP enrolment (pending until confirmed)",
    body: totpEnrolBody,
    responses: { 200: totpEnrolmentResponse },
    errors: [
      ...JSON_BODY,
      ...BEARER,
      "insufficient_user_authentication",
      "invalid_credentials",
      "too_many_requests",
      ...DATABASE,
    ],
  },
  totpConfirm: {
    method: "post",
    path: "/mfa/totp/confirm",
    auth: "bearer",
    tag: "second factor",
    summary: "Turn TOTP on with a first code; answers the recovery codes",
    body: totpConfirmBody,
    responses: { 200: recoveryCodesResponse },
    errors: [...JSON_BODY, ...BEARER, "invalid_credentials", ...DATABASE],
  },
  totpRemove: {
    method: "delete",
    path: "/mfa/totp",
    auth: "bearer",
    tag: "second factor",
    summary: "Turn TOTP off",
    body: currentPasswordBody,
    responses: { 204: null },
    errors: [...JSON_BODY, ...BEARER, "invalid_credentials", "not_found", "too_many_requests", ...DATABASE],
  },
  recoveryCodes: {
    method: "post",
    path: "/mfa/recovery-codes",
    auth: "bearer",
    tag: "second factor",
    summary: "New recovery codes (the old ones stop working)",
    body: currentPasswordBody,
    responses: { 200: recoveryCodesResponse },
    errors: [...JSON_BODY, ...BEARER, "invalid_credentials", "too_many_requests", ...DATABASE],
  },
  passkeyRegisterOptions: {
    method: "post",
    path: "/webauthn/register/options",
    auth: "bearer",
    tag: "passkeys",
    summary: "WebAuthn options to create a passkey",
    body: passkeyOptionsBody,
    responses: { 200: webauthnOptions },
    errors: [
      ...JSON_BODY,
      ...BEARER,
      "insufficient_user_authentication",
      "invalid_credentials",
      "too_many_requests",
      ...DATABASE,
    ],
  },
  passkeyRegisterVerify: {
    method: "post",
    path: "/webauthn/register/verify",
    auth: "bearer",
    tag: "passkeys",
    summary: "Register the passkey the browser created",
    body: passkeyRegisterBody,
    responses: { 201: z.object({ credential: passkeySchema }) },
    errors: [...JSON_BODY, ...BEARER, "invalid_credentials", ...DATABASE],
  },
  passkeyList: {
    method: "get",
    path: "/webauthn/credentials",
    auth: "bearer",
    tag: "passkeys",
    summary: "The user's passkeys",
    responses: { 200: z.object({ credentials: z.array(passkeySchema) }) },
    errors: [...BEARER, ...DATABASE],
  },
  passkeyRename: {
    method: "patch",
    path: "/webauthn/credentials/:id",
    auth: "bearer",
    tag: "passkeys",
    summary: "Rename a passkey",
    body: passkeyRenameBody,
    params: credentialIdParams,
    responses: { 200: z.object({ credential: passkeySchema }) },
    errors: [...JSON_BODY, ...BEARER, "not_found", ...DATABASE],
  },
  passkeyRemove: {
    method: "delete",
    path: "/webauthn/credentials/:id",
    auth: "bearer",
    tag: "passkeys",
    summary: "Remove a passkey",
    body: currentPasswordBody,
    params: credentialIdParams,
    responses: { 204: null },
    errors: [...JSON_BODY, ...BEARER, "invalid_credentials", "not_found", "too_many_requests", ...DATABASE],
  },
  passkeyLoginOptions: {
    method: "post",
    path: "/webauthn/login/options",
    auth: "none",
    tag: "passkeys",
    summary: "WebAuthn options to log in with a passkey (alone, or as the second step with mfa_token)",
    description: "Each request stores a challenge, so each counts as a login attempt of the address.",
    body: passkeyLoginOptionsBody,
    responses: { 200: webauthnOptions },
    errors: [...JSON_BODY, "invalid_grant", "too_many_requests", ...DATABASE],
  },
  passkeyLoginVerify: {
    method: "post",
    path: "/webauthn/login/verify",
    auth: "none",
    optionalCredentials: ["refresh_cookie"],
    tag: "passkeys",
    summary: "Log in with a passkey",
    description:
      "With a passkey alone, or with `mfa_token` as the second login step. Throttled like `POST /login`: an " +
      "assertion that does not verify counts as a failed login of the address.",
    body: passkeyLoginBody,
    responses: { 200: tokenResponse },
    setsRefreshCookie: true,
    errors: [
      ...JSON_BODY,
      "invalid_credentials",
      "invalid_grant",
      "email_not_verified",
      "too_many_requests",
      ...DATABASE,
    ],
  },
} as const satisfies Record<string, RouteSpec>;
