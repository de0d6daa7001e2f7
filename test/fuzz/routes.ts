/**
 * The HTTP surface the fuzzer aims at: every route of the standalone server, the routes the
 * product promises next (they answer 404 until they exist, and get fuzzed as soon as they
 * do), and a few paths that exist nowhere.
 */
export interface RouteSpec {
  template: string;
  method: string;
  /** Needs `Authorization: Bearer <access token>`. */
  bearer: boolean;
  /** Body fields the route needs. */
  fields: string[];
  /** Body fields the route may take. */
  optional: string[];
  /** How often it is picked relative to others: served routes more than promised or missing ones. */
  weight: number;
}

const served = (
  method: string,
  template: string,
  fields: string[] = [],
  optional: string[] = [],
  bearer = false,
): RouteSpec => ({
  method,
  template,
  bearer,
  fields,
  optional,
  weight: 4,
});
const promised = (method: string, template: string, fields: string[] = [], bearer = false): RouteSpec => ({
  method,
  template,
  bearer,
  fields,
  optional: [],
  weight: 1,
});

export const ROUTES: RouteSpec[] = [
  served("POST", "/auth/register", ["username", "password"], ["email"]),
  served("POST", "/auth/login", ["username", "password"], ["token_transport", "email"]),
  served("POST", "/auth/refresh", [], ["refresh_token", "token_transport"]),
  served("POST", "/auth/logout", [], ["refresh_token"]),
  served("POST", "/auth/logout-all", [], [], true),
  served("GET", "/auth/sessions", [], [], true),
  served("DELETE", "/auth/sessions/:id", [], [], true),
  served("POST", "/auth/password", ["current_password", "new_password"], [], true),
  served("GET", "/auth/me", [], [], true),
  served("GET", "/.well-known/jwks.json"),
  served("GET", "/api/hello", [], [], true),
  served("GET", "/healthz"),
  served("POST", "/auth/mfa/totp", [], ["current_password"], true),
  served("POST", "/auth/mfa/totp/confirm", ["code"], [], true),
  served("DELETE", "/auth/mfa/totp", ["current_password"], [], true),
  served("POST", "/auth/mfa/recovery-codes", ["current_password"], [], true),
  // A code mostly, a recovery code sometimes (both: invalid_request), so requests reach the token's judgement.
  served("POST", "/auth/login/mfa", ["mfa_token", "code"], ["recovery_code", "token_transport"]),
  served("POST", "/auth/webauthn/register/options", [], ["current_password"], true),
  served("POST", "/auth/webauthn/register/verify", ["response"], ["name"], true),
  served("GET", "/auth/webauthn/credentials", [], [], true),
  served("PATCH", "/auth/webauthn/credentials/:id", ["name"], [], true),
  served("DELETE", "/auth/webauthn/credentials/:id", ["current_password"], [], true),
  served("POST", "/auth/webauthn/login/options", [], ["mfa_token"]),
  served("POST", "/auth/webauthn/login/verify", ["response"], ["mfa_token", "token_transport"]),
  promised("GET", "/"),
  promised("GET", "/index.html"),
  promised("GET", "/styles.css"),
  // Promised routes: email, second factor, activity, introspection, OpenAPI.
  promised("POST", "/auth/email/verify", ["token"]),
  promised("POST", "/auth/email/resend", [], true),
  promised("POST", "/auth/email", ["email", "current_password"], true),
  promised("POST", "/auth/password/forgot", ["email"]),
  promised("POST", "/auth/password/reset", ["token", "new_password"]),
  promised("GET", "/auth/activity", [], true),
  promised("POST", "/auth/introspect", ["token"]),
  promised("POST", "/auth/revoke", ["token"]),
  promised("GET", "/openapi.json"),
  // Nowhere.
  promised("GET", "/auth"),
  promised("POST", "/auth/unknown"),
  promised("GET", "/auth/me/extra"),
  promised("PUT", "/nope"),
];

/** Body fields a route may read, with what kind of value each holds. */
export const PASSWORD_FIELDS = new Set(["password", "current_password", "new_password"]);
export const TOKEN_FIELDS = new Set(["refresh_token", "access_token", "token", "mfa_token", "code", "recovery_code"]);
export const KNOWN_FIELDS = [...new Set([...ROUTES.flatMap((r) => [...r.fields, ...r.optional]), "access_token"])];

/** The route a request was aimed at, when it is one of the bearer routes (method as Express matches it). */
export function bearerRouteOf(method: string, template: string): RouteSpec | undefined {
  const effective = method === "HEAD" ? "GET" : method;
  return ROUTES.find((r) => r.bearer && r.template === template && r.method === effective);
}
