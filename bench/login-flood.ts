import { setTimeout as sleep } from "node:timers/promises";
import { bearerHeaders } from "./http-routes.ts";
import { failureNote, quantile, requestsPerSecond, runLoad } from "./load.ts";
import { runPaced } from "./paced-load.ts";
import type { BenchSettings, PartResult, ResultRow } from "./results.ts";
import type { ServerHandle } from "./server-handle.ts";

/**
 * The protected route is paced (open loop, evenly spaced requests) at this share of its
 * measured capacity, so its p99 shows interference from the logins, not its own queue.
 */
const PACED_SHARE = 0.25;
const FALLBACK_RATE = 500;
/** The flood starts this long before the protected route is measured, so the whole window is under load. */
const FLOOD_LEAD_MS = 500;

async function assertLoginWorks(server: ServerHandle): Promise<void> {
  const user = server.ready.loginUsers[0]!;
  const response = await fetch(`${server.ready.url}/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(user),
  });
  if (response.status !== 200) throw new Error(`bench: POST /auth/login answered ${response.status}, expected 200`);
}

/**
 * Login throughput (argon2id on the libuv thread pool), and the p99 of GET /protected at a
 * fixed, moderate rate (see paced-load.ts): first idle, then while logins are hammered. The flood spreads its
 * connections over several accounts so the per-account throttle never answers instead of argon2.
 */
export async function benchLoginFlood(
  server: ServerHandle,
  settings: BenchSettings,
  protectedRps: number | undefined,
): Promise<PartResult> {
  await assertLoginWorks(server);
  const { connections } = settings.http;
  const { seconds, loginConnections } = settings.flood;
  const rate = protectedRps ? Math.max(100, Math.round((protectedRps * PACED_SHARE) / 100) * 100) : FALLBACK_RATE;
  const paced = () =>
    runPaced({
      url: `${server.ready.url}/protected`,
      rate,
      seconds,
      connections,
      headersFor: bearerHeaders(server.ready.accessTokens),
    });
  const users = server.ready.loginUsers;

  const idle = await paced();
  const flood = runLoad({
    url: `${server.ready.url}/auth/login`,
    method: "POST",
    connections: loginConnections,
    seconds: seconds + (2 * FLOOD_LEAD_MS) / 1000,
    headersFor: () => ({ "content-type": "application/json" }),
    bodyFor: (n) => JSON.stringify(users[n % users.length]),
  });
  await sleep(FLOOD_LEAD_MS);
  const during = await paced();
  const logins = await flood;

  const idleP99 = quantile(idle.latenciesMs, 0.99);
  const floodP99 = quantile(during.latenciesMs, 0.99);
  const loginRate = requestsPerSecond(logins);
  const section = `Login flood (${loginConnections} connections on POST /auth/login; GET /protected paced at ${rate} req/s)`;
  const withNote = (row: ResultRow, note: string | undefined): ResultRow => (note ? { ...row, note } : row);
  const rows: ResultRow[] = [
    withNote(
      { section, name: "GET /protected, idle", value: requestsPerSecond(idle), unit: "req/s", p99Ms: idleP99 },
      failureNote(idle),
    ),
    withNote(
      {
        section,
        name: "GET /protected, during the login flood",
        value: requestsPerSecond(during),
        unit: "req/s",
        p99Ms: floodP99,
      },
      [`p99 ${(floodP99 / idleP99).toFixed(2)}× idle`, failureNote(during)].filter(Boolean).join("; "),
    ),
    withNote(
      {
        section,
        name: "POST /auth/login (argon2id m=19 MiB, t=2)",
        value: loginRate,
        unit: "logins/s",
        p99Ms: quantile(logins.latenciesMs, 0.99),
      },
      failureNote(logins),
    ),
  ];
  return {
    rows,
    values: {
      "flood.idleP99": idleP99,
      "flood.floodP99": floodP99,
      "flood.loginsPerSecond": loginRate,
      "flood.pacedRate": rate,
    },
  };
}
