import type { CredentialPool } from "./credentials.ts";
import type { ConcreteRequest, Secret } from "./materialize.ts";
import { headerValues, type RawOutcome, type RawResponse } from "./raw-http.ts";
import { KNOWN_FIELDS, ROUTES } from "./routes.ts";

/** One broken rule, with enough detail to recognise the same failure across runs. */
export interface Violation {
  rule: string;
  detail: string;
}

/** Every error code of the public contract and its status. `unavailable` is absent: the database is up. */
const STATUS_OF_CODE: Record<string, number> = {
  invalid_request: 400,
  invalid_password: 400,
  invalid_link: 400,
  invalid_credentials: 401,
  invalid_token: 401,
  invalid_grant: 401,
  insufficient_scope: 403,
  forbidden_origin: 403,
  registration_closed: 403,
  email_not_verified: 403,
  not_found: 404,
  username_taken: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  too_many_requests: 429,
};

/**
 * Statuses for requests that fail below the routes (RFC 9110/6585: timeout, unmet
 * expectation, header fields too large): the contract's shape with `invalid_request`.
 */
const TRANSPORT_STATUSES = new Set([408, 417, 431]);

/**
 * Words the server says on its own: a generated value that happens to be one of these
 * (or part of one) is not an echo.
 */
const VOCABULARY = [
  ...KNOWN_FIELDS,
  ...ROUTES.map((r) => r.template),
  ...Object.keys(STATUS_OF_CODE),
  'Bearer realm="gatehouse", error="invalid_token", error_description=',
  "gatehouse_refresh __Secure-gatehouse_refresh __Host-gatehouse_refresh application/json; charset=utf-8",
  "Path=/auth; Max-Age=0; HttpOnly; SameSite=Strict; Secure; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
  "no-store no-cache max-age=0 nosniff SAMEORIGIN",
].join("\n");

/** Long and varied enough that finding it in an answer cannot be chance. */
function isDistinctive(value: string): boolean {
  if (value.length < 8) return false;
  const seen = new Set<string>();
  for (const c of value) {
    seen.add(c);
    if (seen.size >= 4) return !VOCABULARY.includes(value);
  }
  return false;
}

export interface CheckContext {
  pool: CredentialPool;
  /** Every username and user agent sent so far, joined: the server may show these back. */
  reflected: string[];
}

/** Checks one request/answer pair against every invariant. */
export function checkExchange(ctx: CheckContext, request: ConcreteRequest, outcome: RawOutcome): Violation[] {
  const response = outcome.response;
  if (!response) {
    // Over the header or body limit the server may close while bytes are still in flight:
    // the client then sees a reset instead of the 413/431 that was written.
    if (request.facts.oversized) return [];
    return [{ rule: "no answer", detail: outcome.failure ?? "no response" }];
  }
  const violations: Violation[] = [];
  const add = (rule: string, detail: string) => violations.push({ rule, detail });
  const status = response.status;
  const body = response.body.toString("utf8");
  const parsed = parseJson(body);

  if (status >= 500) add("server error", `${status} ${clip(body)}`);
  // A 5xx is already a failure; its shape is not checked on top.
  if (status >= 400 && status < 500 && !request.facts.head) checkErrorShape(response, body, parsed, add);
  if (status === 429) {
    const retryAfter = headerValues(response, "retry-after");
    if (retryAfter.length !== 1 || !/^[1-9]\d*$/.test(retryAfter[0]!))
      add("429 without Retry-After", JSON.stringify(retryAfter));
  }
  if (
    isTokenResponse(response, parsed, ctx.pool.refreshCookieName) &&
    !headerValues(response, "cache-control").some((v) => /no-store/i.test(v))
  ) {
    add("token answer cacheable", `Cache-Control: ${JSON.stringify(headerValues(response, "cache-control"))}`);
  }
  for (const leak of findEchoes(ctx, request.secrets, response, parsed)) add("echo", leak);
  checkAcceptance(ctx.pool, request, response, parsed, add);
  return violations;
}

function checkErrorShape(
  response: RawResponse,
  body: string,
  parsed: unknown,
  add: (rule: string, detail: string) => void,
): void {
  const status = response.status;
  const type = headerValues(response, "content-type")[0] ?? "";
  if (!/^application\/json\b/i.test(type))
    add("error not JSON", `${status} Content-Type ${JSON.stringify(type)}, body ${clip(body)}`);
  if (parsed === undefined || parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    add("error shape", `${status} body ${clip(body)}`);
    return;
  }
  const record = parsed as Record<string, unknown>;
  const keys = Object.keys(record).sort().join(",");
  if (keys !== "error,message") add("error shape", `${status} members {${keys}}`);
  const code = record["error"];
  if (typeof code !== "string" || !(code in STATUS_OF_CODE)) {
    add("unknown error code", `${status} error ${JSON.stringify(code)}`);
    return;
  }
  if (typeof record["message"] !== "string" || record["message"].length === 0)
    add("error shape", `${status} ${code}: message ${JSON.stringify(record["message"])}`);
  const expected = STATUS_OF_CODE[code];
  if (status !== expected && !(TRANSPORT_STATUSES.has(status) && code === "invalid_request"))
    add("status does not match code", `${status} with ${code} (expected ${expected})`);
  if (code === "invalid_token" && !headerValues(response, "www-authenticate").some((v) => /^Bearer\b/i.test(v))) {
    add("401 without Bearer challenge", JSON.stringify(headerValues(response, "www-authenticate")));
  }
}

function isTokenResponse(response: RawResponse, parsed: unknown, cookieName: string): boolean {
  const record = parsed !== null && typeof parsed === "object" ? (parsed as Record<string, unknown>) : {};
  if (["access_token", "refresh_token", "mfa_token"].some((k) => typeof record[k] === "string")) return true;
  return headerValues(response, "set-cookie").some(
    (line) => line.startsWith(`${cookieName}=`) && !line.startsWith(`${cookieName}=;`),
  );
}

/** Tokens this answer issued (new access token, refresh token, cookie value). */
function issuedIn(response: RawResponse, parsed: unknown): string[] {
  const record = parsed !== null && typeof parsed === "object" ? (parsed as Record<string, unknown>) : {};
  const issued = ["access_token", "refresh_token", "mfa_token"]
    .map((k) => record[k])
    .filter((v): v is string => typeof v === "string");
  for (const line of headerValues(response, "set-cookie")) {
    const pair = line.split(";")[0] ?? "";
    const value = pair.slice(pair.indexOf("=") + 1);
    if (value) issued.push(value);
  }
  return issued;
}

/**
 * Secrets of the request found in the answer's headers or body, raw or JSON-escaped.
 * Tokens the answer legitimately issued are taken out first, unless one of them is a
 * made-up value coming straight back.
 */
function findEchoes(ctx: CheckContext, secrets: Secret[], response: RawResponse, parsed: unknown): string[] {
  const candidates = secrets.filter((s) => isDistinctive(s.value));
  if (candidates.length === 0) return [];
  const sent = new Set(secrets.map((s) => s.value));
  const genuine = (v: string) => ctx.pool.issuedAccess.has(v) || ctx.pool.issuedRefresh.has(v);
  const scrub = issuedIn(response, parsed).filter((v) => !sent.has(v) || genuine(v));
  const clean = (text: string) => scrub.reduce((t, token) => t.split(token).join("\u0000"), text);
  const places: Array<[string, string]> = [];
  for (const [name, value] of response.headers) {
    places.push(
      [`header ${name}`, clean(value)],
      [`header ${name}`, clean(Buffer.from(value, "latin1").toString("utf8"))],
    );
  }
  places.push(["body", clean(response.body.toString("utf8"))]);
  for (const text of stringsIn(parsed)) places.push(["body (decoded)", clean(text)]);
  const leaks: string[] = [];
  for (const secret of candidates) {
    const place = places.find(([, text]) => text.includes(secret.value));
    if (place && !isReflected(ctx, secret.value))
      leaks.push(`${secret.what} ${clip(JSON.stringify(secret.value), 120)} came back in the ${place[0]}`);
  }
  return leaks;
}

/** Whether the value is part of a username or user agent sent at some point (shown back by design). */
function isReflected(ctx: CheckContext, value: string): boolean {
  return ctx.pool.username.includes(value) || ctx.reflected.some((r) => r.includes(value));
}

/** Secrets of these requests found in log lines the server wrote meanwhile. */
export function findLogLeaks(ctx: CheckContext, secrets: Secret[], lines: string[]): Violation[] {
  const candidates = secrets.filter((s) => isDistinctive(s.value));
  if (candidates.length === 0 || lines.length === 0) return [];
  const texts = lines.flatMap((line) => [line, ...stringsIn(parseJson(line))]);
  return candidates
    .filter((secret) => texts.some((text) => text.includes(secret.value)) && !isReflected(ctx, secret.value))
    .map((secret) => ({ rule: "secret in log", detail: `${secret.what} ${clip(JSON.stringify(secret.value), 120)}` }));
}

/**
 * Acceptance rules: success only for genuine credentials. A forged, mutated, expired or
 * over-long token never passes; a duplicated refresh cookie is refused; a browser's cookie
 * is never turned into a body token; a token sent in two places is refused (RFC 6750 §3.1).
 */
function checkAcceptance(
  pool: CredentialPool,
  request: ConcreteRequest,
  response: RawResponse,
  parsed: unknown,
  add: (rule: string, detail: string) => void,
): void {
  const f = request.facts;
  if (response.status < 200 || response.status >= 300) return;
  if (f.bearerRoute && !f.authorizationTokens.some((t) => pool.issuedAccess.has(t))) {
    add("bearer route accepted a token the server never issued", `${f.method} ${f.route} → ${response.status}`);
  }
  const readsBearer = f.bearerRoute || (f.route === "/auth/logout" && f.method === "POST");
  if (readsBearer && f.accessTokenElsewhere && f.authorizationTokens.length > 0) {
    add("access token in two places accepted", `${f.method} ${f.route} → ${response.status}`);
  }
  if (f.method !== "POST") return;
  if (f.route === "/auth/refresh") {
    if (f.refreshCookieValues.length > 1)
      add(
        "duplicated refresh cookie accepted",
        `${f.refreshCookieValues.length} cookies named ${pool.refreshCookieName} → ${response.status}`,
      );
    const presented = f.bodyRefreshToken ?? f.refreshCookieValues[0];
    if (presented === undefined || !pool.issuedRefresh.has(presented))
      add("refresh accepted a token the server never issued", `→ ${response.status}`);
  }
  if (f.route === "/auth/refresh" || f.route === "/auth/login") {
    const genuineCookie = f.refreshCookieValues.length === 1 && pool.issuedRefresh.has(f.refreshCookieValues[0]!);
    const record = parsed !== null && typeof parsed === "object" ? (parsed as Record<string, unknown>) : {};
    if (genuineCookie && typeof record["refresh_token"] === "string")
      add("refresh token moved from cookie to body", `${f.route} → ${response.status}`);
  }
}

function parseJson(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}

/** Every string (keys included) inside a parsed JSON value. */
function stringsIn(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(stringsIn);
  if (value !== null && typeof value === "object")
    return Object.entries(value).flatMap(([k, v]) => [k, ...stringsIn(v)]);
  return [];
}

function clip(text: string, max = 300): string {
  return text.length > max ? `${text.slice(0, max)}…(${text.length} chars)` : text;
}
