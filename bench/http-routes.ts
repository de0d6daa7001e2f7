import { orderForRound } from "./harness.ts";
import { failureNote, type LoadResult, mergeLoads, quantile, requestsPerSecond, runLoad } from "./load.ts";
import type { BenchSettings, PartResult, ResultRow } from "./results.ts";
import type { ServerHandle } from "./server-handle.ts";

interface Route {
  key: string;
  name: string;
  path: string;
}

/** Every route gets the same requests, Authorization header included, so only the middleware differs. */
const ROUTES: readonly Route[] = [
  { key: "public", name: "GET /public (no auth)", path: "/public" },
  { key: "protected", name: "GET /protected requireAuth()", path: "/protected" },
  { key: "protectedSession", name: "GET /protected-session requireAuth({checkSession})", path: "/protected-session" },
  { key: "seeds", name: "GET /seeds (seeds' jsonwebtoken middleware)", path: "/seeds" },
];

/** Each connection is a different logged-in session with its own token, as real clients would be. */
export function bearerHeaders(tokens: readonly string[]): (connection: number) => Record<string, string> {
  return (connection) => ({ authorization: `Bearer ${tokens[connection % tokens.length]!}` });
}

/** Refuses to load a route that does not answer 200 to our tokens: a fast 401 is not a fast route. */
async function assertRoutesAnswer(server: ServerHandle): Promise<void> {
  for (const route of ROUTES) {
    const response = await fetch(`${server.ready.url}${route.path}`, { headers: bearerHeaders(server.ready.accessTokens)(0) });
    if (response.status !== 200) throw new Error(`bench: ${route.path} answered ${response.status}, expected 200`);
  }
}

/**
 * Req/s and p99 of each route, loaded by autocannon from this process (the server is a
 * separate process). Routes take turns in short rounds, in a changing order, so noise on
 * the 2-core box falls on all of them alike; each route's rounds are then pooled.
 */
export async function benchHttpRoutes(server: ServerHandle, settings: BenchSettings): Promise<PartResult> {
  await assertRoutesAnswer(server);
  const { connections, warmupSeconds, rounds, secondsPerRound } = settings.http;
  const headersFor = bearerHeaders(server.ready.accessTokens);
  const load = (route: Route, seconds: number) =>
    runLoad({ url: `${server.ready.url}${route.path}`, connections, seconds, headersFor });

  for (const route of ROUTES) await load(route, warmupSeconds);
  const byRoute = new Map<string, LoadResult[]>(ROUTES.map((route) => [route.key, []]));
  for (let round = 0; round < rounds; round++) {
    for (const route of orderForRound(ROUTES, round)) byRoute.get(route.key)!.push(await load(route, secondsPerRound));
  }

  const section = `HTTP, ${connections} connections, ${rounds}×${secondsPerRound} s per route (HS256 tokens)`;
  const values: Record<string, number> = {};
  const rows: ResultRow[] = [];
  let publicRps = 0;
  for (const route of ROUTES) {
    const merged = mergeLoads(byRoute.get(route.key)!);
    const rps = requestsPerSecond(merged);
    const p99Ms = quantile(merged.latenciesMs, 0.99);
    if (route.key === "public") publicRps = rps;
    values[`http.${route.key}.rps`] = rps;
    values[`http.${route.key}.p99`] = p99Ms;
    const note = failureNote(merged);
    rows.push({ section, name: route.name, value: rps, unit: "req/s", p99Ms, ratio: rps / publicRps, ratioTo: ROUTES[0]!.name, ...(note ? { note } : {}) });
  }
  return { rows, values };
}
