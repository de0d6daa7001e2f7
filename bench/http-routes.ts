import { orderForRound } from "./harness.ts";
import { failureNote, type LoadResult, mergeLoads, quantile, requestsPerSecond, runLoad } from "./load.ts";
import type { SessionCheckStatus } from "../src/core/sessions/session-service.ts";
import type { BenchSettings, PartResult, ResultRow } from "./results.ts";
import type { ServerHandle } from "./server-handle.ts";

interface Route {
  key: string;
  name: string;
  path: string;
  /** Default GET with each connection's access token as its bearer. */
  method?: "POST";
  /** For POST routes: headers and body of the n-th connection. */
  request?: (ready: ServerHandle["ready"]) => {
    headersFor: (connection: number) => Record<string, string>;
    bodyFor: (connection: number) => string;
  };
}

/**
 * A resource server asking about each connection's access token (RFC 7662): the form body and
 * the introspection caller's bearer, as any HTTP client would send them.
 */
const introspectionRequest: Route["request"] = (ready) => ({
  headersFor: () => ({
    authorization: `Bearer ${ready.introspectionToken}`,
    "content-type": "application/x-www-form-urlencoded",
  }),
  bodyFor: (connection) => {
    const token = ready.accessTokens[connection % ready.accessTokens.length]!;
    return new URLSearchParams({ token }).toString();
  },
});

/** Routes loaded against one server, and where their numbers go (`<prefix>.<route>.rps`). */
export interface RouteSet {
  prefix: string;
  /** Names the database in the section heading. */
  label: string;
  /** The first route is each row's ratio reference. */
  routes: readonly Route[];
}

const PUBLIC: Route = { key: "public", name: "GET /public (no auth)", path: "/public" };
const PROTECTED: Route = {
  key: "protected",
  name: "GET /protected requireAuth() (session checked)",
  path: "/protected",
};
const STATELESS: Route = {
  key: "protectedStateless",
  name: "GET /protected-stateless requireAuth({checkSession:false})",
  path: "/protected-stateless",
};
const SEEDS: Route = { key: "seeds", name: "GET /seeds (seeds' jsonwebtoken middleware)", path: "/seeds" };
const INTROSPECT: Route = {
  key: "introspect",
  name: "POST /auth/introspect (RFC 7662, access token)",
  path: "/auth/introspect",
  method: "POST",
  request: introspectionRequest,
};

/** Every GET route gets the same requests, Authorization header included, so only the middleware differs. */
export const SQLITE_ROUTES: RouteSet = {
  prefix: "http",
  label: "SQLite",
  routes: [PUBLIC, PROTECTED, STATELESS, SEEDS, INTROSPECT],
};
export const POSTGRES_ROUTES: RouteSet = {
  prefix: "http.pg",
  label: "PostgreSQL",
  routes: [PUBLIC, PROTECTED, STATELESS],
};

/** Each connection is a different logged-in session with its own token, as real clients would be. */
export function bearerHeaders(tokens: readonly string[]): (connection: number) => Record<string, string> {
  return (connection) => ({ authorization: `Bearer ${tokens[connection % tokens.length]!}` });
}

/** Refuses to load a route that does not answer 200 to our tokens: a fast 401 is not a fast route. */
async function assertRoutesAnswer(server: ServerHandle, routes: readonly Route[]): Promise<void> {
  for (const route of routes) {
    const request = route.request?.(server.ready);
    const response = await fetch(`${server.ready.url}${route.path}`, {
      method: route.method ?? "GET",
      headers: request ? request.headersFor(0) : bearerHeaders(server.ready.accessTokens)(0),
      ...(request ? { body: request.bodyFor(0) } : {}),
    });
    const text = await response.text();
    if (response.status !== 200) throw new Error(`bench: ${route.path} answered ${response.status}, expected 200`);
    // An inactive answer is as cheap as a 401 and just as meaningless here.
    if (route.request && !text.includes('"active":true')) {
      throw new Error(`bench: ${route.path} found the token inactive`);
    }
  }
}

/**
 * Req/s and p99 of each route, loaded by autocannon from this process (the server is a
 * separate process). Routes take turns in short rounds, in a changing order, so noise on
 * the 2-core box falls on all of them alike; each route's rounds are then pooled.
 */
export async function benchHttpRoutes(
  server: ServerHandle,
  settings: BenchSettings,
  set: RouteSet,
): Promise<PartResult> {
  const { routes: ROUTES, prefix } = set;
  await assertRoutesAnswer(server, ROUTES);
  const { connections, warmupSeconds, rounds, secondsPerRound } = settings.http;
  const headersFor = bearerHeaders(server.ready.accessTokens);
  const load = (route: Route, seconds: number) => {
    const request = route.request?.(server.ready);
    return runLoad({
      url: `${server.ready.url}${route.path}`,
      connections,
      seconds,
      ...(request ? { method: route.method ?? "GET", ...request } : { headersFor }),
    });
  };

  for (const route of ROUTES) await load(route, warmupSeconds);
  const checksBefore = await server.command<SessionCheckStatus>({ cmd: "session-checks" });
  const byRoute = new Map<string, LoadResult[]>(ROUTES.map((route) => [route.key, []]));
  for (let round = 0; round < rounds; round++) {
    for (const route of orderForRound(ROUTES, round)) byRoute.get(route.key)!.push(await load(route, secondsPerRound));
  }

  const checksAfter = await server.command<SessionCheckStatus>({ cmd: "session-checks" });
  const databaseChecks = checksAfter.databaseChecks - checksBefore.databaseChecks;
  const perRoute = `${rounds}×${secondsPerRound} s per route`;
  const section = `HTTP on ${set.label}, ${connections} connections, ${perRoute} (HS256 tokens)`;
  const values: Record<string, number> = {};
  const rows: ResultRow[] = [];
  let publicRps = 0;
  for (const route of ROUTES) {
    const merged = mergeLoads(byRoute.get(route.key)!);
    const rps = requestsPerSecond(merged);
    const p99Ms = quantile(merged.latenciesMs, 0.99);
    if (route === ROUTES[0]) publicRps = rps;
    values[`${prefix}.${route.key}.rps`] = rps;
    values[`${prefix}.${route.key}.p99`] = p99Ms;
    const failures = failureNote(merged);
    // The session check should cost no database read: say how many there were.
    const note =
      route === PROTECTED
        ? [failures, `${databaseChecks} session checks read the database`].filter(Boolean).join("; ")
        : failures;
    rows.push({
      section,
      name: route.name,
      value: rps,
      unit: "req/s",
      p99Ms,
      ratio: rps / publicRps,
      ratioTo: ROUTES[0]!.name,
      ...(note ? { note } : {}),
    });
  }
  return { rows, values };
}
