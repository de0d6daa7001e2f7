import { z } from "zod";
import type { AuthErrorCode } from "../core/errors.ts";
import {
  emailChangeBody,
  emailVerifyBody,
  emptyBody,
  loginBody,
  passwordChangeBody,
  passwordForgotBody,
  passwordResetBody,
  refreshBody,
  registerBody,
  tokenBody,
} from "./bodies.ts";
import { sessionIdParams } from "./path-params.ts";
import { secondFactorRoutes } from "./routes/second-factor-routes.ts";
import {
  healthResponse,
  helloResponse,
  introspectionResponse,
  jwksResponse,
  mfaChallengeResponse,
  meResponse,
  openApiResponse,
  notReadyResponse,
  readyResponse,
  registeredResponse,
  sessionsResponse,
  tokenResponse,
} from "./responses.ts";
import { type RouteSpec, textBody } from "./route-spec.ts";
import { sessionsQuery } from "./sessions-page.ts";
import { activityQuery, activityResponse, DEFAULT_ACTIVITY_LIMIT } from "./routes/activity.ts";

/** Answers every JSON POST can get before its handler runs (body parser and content-type check). */
const JSON_BODY: readonly AuthErrorCode[] = ["invalid_request", "payload_too_large", "unsupported_media_type"];
/** The same for the form-encoded token endpoints. */
const FORM_BODY = JSON_BODY;
/** A missing, malformed, forged, expired or revoked access token (401), or one sent in two places (400). */
const BEARER: readonly AuthErrorCode[] = ["invalid_request", "invalid_token"];
/** The database is down: nothing issued, nothing consumed. */
const DATABASE: readonly AuthErrorCode[] = ["unavailable"];

const JSON_POST =
  "POST bodies are JSON (`Content-Type: application/json`), also when empty: a cross-site HTML form cannot send " +
  "that type, which is part of the CSRF defence.";

/**
 * Every route of `auth.router()`, relative to where it is mounted (`/auth` on the standalone
 * server). The router mounts each from here and the OpenAPI document is generated from here.
 */
export const authRoutes = {
  register: {
    method: "post",
    path: "/register",
    auth: "none",
    tag: "accounts",
    summary: "Create an account",
    description:
      "With `email`, a verification link is mailed; an address another account has answers the same and its " +
      "owner is told instead. " +
      JSON_POST,
    body: registerBody,
    responses: { 201: registeredResponse },
    errors: [
      ...JSON_BODY,
      "invalid_password",
      "registration_closed",
      "username_taken",
      "too_many_requests",
      ...DATABASE,
    ],
  },
  login: {
    method: "post",
    path: "/login",
    auth: "none",
    optionalCredentials: ["refresh_cookie"],
    tag: "sessions",
    summary: "Start a session",
    description:
      "Answers an access token, and the refresh token as an HttpOnly cookie; a native client may ask for it in " +
      'the body with `token_transport: "body"`. Send `username` or `email`, exactly one. Unknown user and wrong ' +
      "password answer alike; `email_not_verified` only after the password is right. When the account has a " +
      "second factor, a right password answers `mfa_required` and an `mfa_token` for `POST /login/mfa` instead " +
      "(no token, no cookie). " +
      JSON_POST,
    body: loginBody,
    responses: { 200: z.union([tokenResponse, mfaChallengeResponse]) },
    setsRefreshCookie: true,
    errors: [...JSON_BODY, "invalid_credentials", "email_not_verified", "too_many_requests", ...DATABASE],
  },
  refresh: {
    method: "post",
    path: "/refresh",
    auth: "none",
    optionalCredentials: ["refresh_cookie"],
    tag: "sessions",
    summary: "Rotate the refresh token and get a new access token",
    description:
      "The refresh token comes in the cookie (browsers; the Origin must be allowed) or as `refresh_token` in the " +
      "body (native clients). Presenting a rotated token again after the grace window ends the session. " +
      JSON_POST,
    body: refreshBody,
    responses: { 200: tokenResponse },
    setsRefreshCookie: true,
    errors: [...JSON_BODY, "invalid_grant", "forbidden_origin", ...DATABASE],
  },
  logout: {
    method: "post",
    path: "/logout",
    auth: "none",
    optionalCredentials: ["refresh_cookie", "bearer"],
    tag: "sessions",
    summary: "End this session",
    description:
      "Ends the session of the refresh cookie, of `refresh_token` in the body, or of the bearer access token; " +
      "clears the cookie. Repeating it is harmless. " +
      JSON_POST,
    body: refreshBody,
    responses: { 204: null },
    errors: [...JSON_BODY, ...BEARER, "invalid_grant", "forbidden_origin", ...DATABASE],
  },
  logoutAll: {
    method: "post",
    path: "/logout-all",
    auth: "bearer",
    tag: "sessions",
    summary: "End every session of the user",
    description: JSON_POST,
    body: emptyBody,
    responses: { 204: null },
    errors: [...JSON_BODY, ...BEARER, ...DATABASE],
  },
  listSessions: {
    method: "get",
    path: "/sessions",
    auth: "bearer",
    tag: "sessions",
    summary: "The user's live sessions, newest first, a page at a time",
    description: "Follow `next_cursor` with `?before=` until it is null.",
    query: sessionsQuery,
    responses: { 200: sessionsResponse },
    errors: [...BEARER, ...DATABASE],
  },
  endSession: {
    method: "delete",
    path: "/sessions/:id",
    auth: "bearer",
    tag: "sessions",
    summary: "End one of the user's sessions",
    params: sessionIdParams,
    responses: { 204: null },
    errors: [...BEARER, "not_found", ...DATABASE],
  },
  changePassword: {
    method: "post",
    path: "/password",
    auth: "bearer",
    tag: "accounts",
    summary: "Change the password; every other session of the user ends",
    description: JSON_POST,
    body: passwordChangeBody,
    responses: { 204: null },
    errors: [...JSON_BODY, "invalid_password", ...BEARER, "invalid_credentials", "too_many_requests", ...DATABASE],
  },
  me: {
    method: "get",
    path: "/me",
    auth: "bearer",
    tag: "accounts",
    summary: "Who am I",
    responses: { 200: meResponse },
    errors: [...BEARER, ...DATABASE],
  },
  activity: {
    method: "get",
    path: "/activity",
    auth: "bearer",
    tag: "accounts",
    summary: "The user's own security events, newest first",
    description:
      "Logins (successful, failed, throttled), logouts, sessions ended, password changes and account changes, " +
      `${DEFAULT_ACTIVITY_LIMIT} per page by default. Pass \`next_before\` of a page as \`before\` for the next, older one.`,
    query: activityQuery,
    responses: { 200: activityResponse },
    errors: [...BEARER, ...DATABASE],
  },
  verifyEmail: {
    method: "post",
    path: "/email/verify",
    auth: "none",
    tag: "email",
    summary: "Verify an email address with the token of a mailed `#verify=` link",
    description: JSON_POST,
    body: emailVerifyBody,
    responses: { 204: null },
    errors: [...JSON_BODY, "invalid_link", ...DATABASE],
  },
  resendVerification: {
    method: "post",
    path: "/email/resend",
    auth: "bearer",
    tag: "email",
    summary: "Mail a new verification link to the account's unverified address",
    description: JSON_POST,
    body: emptyBody,
    responses: { 202: null },
    errors: [...JSON_BODY, ...BEARER, "too_many_requests", ...DATABASE],
  },
  changeEmail: {
    method: "post",
    path: "/email",
    auth: "bearer",
    tag: "email",
    summary: "Change the address: a link to the new one, a notice to the old; effective when verified",
    description: JSON_POST,
    body: emailChangeBody,
    responses: { 202: null },
    errors: [...JSON_BODY, ...BEARER, "invalid_credentials", "too_many_requests", ...DATABASE],
  },
  forgotPassword: {
    method: "post",
    path: "/password/forgot",
    auth: "none",
    tag: "email",
    summary: "Mail a password-reset link if an account has this verified address",
    description: `The answer is the same for every address, in body, headers and timing. ${JSON_POST}`,
    body: passwordForgotBody,
    responses: { 202: null },
    errors: [...JSON_BODY, "too_many_requests", ...DATABASE],
  },
  resetPassword: {
    method: "post",
    path: "/password/reset",
    auth: "none",
    tag: "email",
    summary: "Set a new password with the token of a mailed `#reset=` link; every session ends",
    description: JSON_POST,
    body: passwordResetBody,
    responses: { 204: null },
    errors: [...JSON_BODY, "invalid_link", "invalid_password", ...DATABASE],
  },
  introspect: {
    method: "post",
    path: "/introspect",
    auth: "introspection",
    tag: "resource servers",
    summary: "Is this token live? (RFC 7662)",
    description:
      "For resource servers in any language. The caller authenticates with `Authorization: Bearer " +
      "<INTROSPECTION_TOKEN>`; the route answers 404 when that setting is not configured. Either kind of token " +
      "may be introspected; nothing is consumed. Anything not live (expired, revoked, session ended, unknown, " +
      'malformed) answers `{"active": false}`. Failed caller authentication is throttled per IP.',
    body: tokenBody,
    bodyType: "form",
    responses: { 200: introspectionResponse },
    errors: [...FORM_BODY, "invalid_token", "not_found", "too_many_requests", ...DATABASE],
  },
  revoke: {
    method: "post",
    path: "/revoke",
    auth: "none",
    tag: "resource servers",
    summary: "Revoke a token and end its session (RFC 7009)",
    description:
      "Ends the session the token belongs to, whether it is a refresh token or an access token, so every token " +
      "of that session stops working. The token is its own proof: no client authentication. Unknown, invalid " +
      "or expired tokens also answer 200 (RFC 7009 §2.2).",
    body: tokenBody,
    bodyType: "form",
    responses: { 200: null },
    errors: [...FORM_BODY, ...DATABASE],
  },
  // TOTP, recovery codes, the second login step and passkeys (src/express/routes/).
  ...secondFactorRoutes,
} as const satisfies Record<string, RouteSpec>;

/** Routes only the standalone server serves, at absolute paths. */
export const serverRoutes = {
  jwks: {
    method: "get",
    path: "/.well-known/jwks.json",
    auth: "none",
    tag: "keys",
    summary: "Public keys that verify access tokens (RFC 7517)",
    description: "Empty when tokens are signed with an HMAC secret (HS256).",
    responses: { 200: jwksResponse },
    errors: [],
  },
  hello: {
    method: "get",
    path: "/api/hello",
    auth: "bearer",
    tag: "example",
    summary: "An example protected route",
    responses: { 200: helloResponse },
    errors: [...BEARER, ...DATABASE],
  },
  health: {
    method: "get",
    path: "/healthz",
    auth: "none",
    tag: "operations",
    summary: "The process answers (no dependency is checked)",
    responses: { 200: healthResponse },
    errors: [],
  },
  ready: {
    method: "get",
    path: "/readyz",
    auth: "none",
    tag: "operations",
    summary: "Ready for traffic: database reachable, schema current, a signing key in force, not shutting down",
    description: "503 `unavailable` otherwise, with `draining` and the state of each check beside the message.",
    responses: { 200: readyResponse, 503: notReadyResponse },
    errors: [],
  },
  metrics: {
    method: "get",
    path: "/metrics",
    auth: "none",
    tag: "operations",
    summary: "Prometheus metrics; 404 unless METRICS=public or METRICS_TOKEN is set (then a bearer token)",
    responses: { 200: textBody("text/plain; version=0.0.4; charset=utf-8", "Prometheus text exposition format") },
    errors: ["invalid_token", "not_found"],
  },
  openapi: {
    method: "get",
    path: "/openapi.json",
    auth: "none",
    tag: "operations",
    summary: "This document (OpenAPI 3.1)",
    responses: { 200: openApiResponse },
    errors: [],
  },
} as const satisfies Record<string, RouteSpec>;

/** The JWKS route as the library documents it (the app mounts `auth.jwks()` where it likes). */
export const jwksRoute: RouteSpec = serverRoutes.jwks;
