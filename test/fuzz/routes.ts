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
  /** Body fields the route reads. */
  fields: string[];
}

const route = (method: string, template: string, fields: string[] = [], bearer = false): RouteSpec => ({ method, template, bearer, fields });

export const ROUTES: RouteSpec[] = [
  route("POST", "/auth/register", ["username", "password", "email"]),
  route("POST", "/auth/login", ["username", "password", "token_transport", "email"]),
  route("POST", "/auth/refresh", ["refresh_token", "token_transport"]),
  route("POST", "/auth/logout", ["refresh_token"]),
  route("POST", "/auth/logout-all", [], true),
  route("GET", "/auth/sessions", [], true),
  route("DELETE", "/auth/sessions/:id", [], true),
  route("POST", "/auth/password", ["current_password", "new_password"], true),
  route("GET", "/auth/me", [], true),
  route("GET", "/.well-known/jwks.json"),
  route("GET", "/api/hello", [], true),
  route("GET", "/healthz"),
  route("GET", "/"),
  route("GET", "/index.html"),
  route("GET", "/styles.css"),
  // Promised routes: email, second factor, activity, introspection, OpenAPI.
  route("POST", "/auth/email/verify", ["token"]),
  route("POST", "/auth/email/resend", [], true),
  route("POST", "/auth/email", ["email", "current_password"], true),
  route("POST", "/auth/password/forgot", ["email"]),
  route("POST", "/auth/password/reset", ["token", "new_password"]),
  route("POST", "/auth/mfa/totp", [], true),
  route("POST", "/auth/mfa/totp/confirm", ["code"], true),
  route("DELETE", "/auth/mfa/totp", ["current_password"], true),
  route("POST", "/auth/login/mfa", ["mfa_token", "code", "recovery_code"]),
  route("GET", "/auth/activity", [], true),
  route("POST", "/auth/introspect", ["token"]),
  route("POST", "/auth/revoke", ["token"]),
  route("GET", "/openapi.json"),
  // Nowhere.
  route("GET", "/auth"),
  route("POST", "/auth/unknown"),
  route("GET", "/auth/me/extra"),
  route("PUT", "/nope"),
];

/** Body fields a route may read, with what kind of value each holds. */
export const PASSWORD_FIELDS = new Set(["password", "current_password", "new_password"]);
export const TOKEN_FIELDS = new Set(["refresh_token", "access_token", "token", "mfa_token", "code", "recovery_code"]);
export const KNOWN_FIELDS = [...new Set([...ROUTES.flatMap((r) => r.fields), "access_token", "username", "token_transport"])];

/** The route a request was aimed at, when it is one of the bearer routes (method as Express matches it). */
export function bearerRouteOf(method: string, template: string): RouteSpec | undefined {
  const effective = method === "HEAD" ? "GET" : method;
  return ROUTES.find((r) => r.bearer && r.template === template && r.method === effective);
}
