import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { median } from "./harness.ts";
import { bearerHeaders } from "./http-routes.ts";
import { failureNote, type LoadResult, quantile, requestsPerSecond, runLoad } from "./load.ts";
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
 * CPU time the server's main thread (its event loop) has used, in ms, from /proc; undefined
 * where there is no /proc. The main thread's id is the process id.
 */
function mainThreadCpuMs(pid: number): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/task/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    // utime and stime, in clock ticks of 10 ms (fields 14 and 15 of proc_pid_stat(5)).
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

/**
 * Login throughput (argon2id on the libuv thread pool) and what one login costs the server's
 * event loop, then the p99 of GET /protected at a fixed, moderate rate (see paced-load.ts),
 * idle and while logins are hammered, in several alternating rounds.
 *
 * Why rounds: on a shared 2-core machine one 5-second p99 is mostly the machine's hiccups —
 * four identical idle runs in a row measured 12, 53, 18 and 24 ms. The target is judged on the
 * median of the per-round ratios (each flood beside the idle run just before it); every round is
 * printed. The flood spreads its connections over several accounts so the per-account throttle
 * never answers instead of argon2.
 */
export async function benchLoginFlood(
  server: ServerHandle,
  settings: BenchSettings,
  protectedRps: number | undefined,
): Promise<PartResult> {
  await assertLoginWorks(server);
  const { connections } = settings.http;
  const { seconds, loginConnections, rounds } = settings.flood;
  const rate = protectedRps ? Math.max(100, Math.round((protectedRps * PACED_SHARE) / 100) * 100) : FALLBACK_RATE;
  const users = server.ready.loginUsers;
  const paced = () =>
    runPaced({
      url: `${server.ready.url}/protected`,
      rate,
      seconds,
      connections,
      headersFor: bearerHeaders(server.ready.accessTokens),
    });
  const flood = (floodSeconds: number) =>
    runLoad({
      url: `${server.ready.url}/auth/login`,
      method: "POST",
      connections: loginConnections,
      seconds: floodSeconds,
      headersFor: () => ({ "content-type": "application/json" }),
      bodyFor: (n) => JSON.stringify(users[n % users.length]),
    });

  // Logins alone: throughput, and the event-loop time each one costs (everything but argon2).
  const cpuBefore = mainThreadCpuMs(server.pid);
  const alone = await flood(seconds);
  const cpuAfter = mainThreadCpuMs(server.pid);
  const eventLoopMsPerLogin =
    cpuBefore === undefined || cpuAfter === undefined ? undefined : (cpuAfter - cpuBefore) / alone.responses;

  const idleRuns: LoadResult[] = [];
  const floodRuns: LoadResult[] = [];
  for (let round = 0; round < rounds; round++) {
    idleRuns.push(await paced());
    const logins = flood(seconds + (2 * FLOOD_LEAD_MS) / 1000);
    await sleep(FLOOD_LEAD_MS);
    floodRuns.push(await paced());
    await logins;
  }

  const idleP99s = idleRuns.map((run) => quantile(run.latenciesMs, 0.99));
  const floodP99s = floodRuns.map((run) => quantile(run.latenciesMs, 0.99));
  const ratios = floodP99s.map((p99, round) => p99 / idleP99s[round]!);
  const idleP99 = median(idleP99s);
  const floodP99 = median(floodP99s);
  const ratio = median(ratios);
  const perRound = ratios.map((value) => `${value.toFixed(2)}×`).join(", ");
  const ms = (values: number[]) => values.map((value) => value.toFixed(1)).join(", ");

  const section =
    `Login flood (${loginConnections} connections on POST /auth/login; ` +
    `GET /protected paced at ${rate} req/s; median of ${rounds} rounds)`;
  const withNote = (row: ResultRow, note: string | undefined): ResultRow => (note ? { ...row, note } : row);
  const failures = (runs: LoadResult[]) => runs.map(failureNote).filter(Boolean).join("; ") || undefined;
  const rows: ResultRow[] = [
    withNote(
      {
        section,
        name: "GET /protected, idle",
        value: median(idleRuns.map(requestsPerSecond)),
        unit: "req/s",
        p99Ms: idleP99,
      },
      [`p99 per round ${ms(idleP99s)} ms`, failures(idleRuns)].filter(Boolean).join("; "),
    ),
    withNote(
      {
        section,
        name: "GET /protected, during the login flood",
        value: median(floodRuns.map(requestsPerSecond)),
        unit: "req/s",
        p99Ms: floodP99,
      },
      [`p99 per round ${ms(floodP99s)} ms; ${ratio.toFixed(2)}× idle (rounds ${perRound})`, failures(floodRuns)]
        .filter(Boolean)
        .join("; "),
    ),
    withNote(
      {
        section,
        name: "POST /auth/login alone (argon2id m=19 MiB, t=2)",
        value: requestsPerSecond(alone),
        unit: "logins/s",
        p99Ms: quantile(alone.latenciesMs, 0.99),
      },
      [
        eventLoopMsPerLogin === undefined ? undefined : `${eventLoopMsPerLogin.toFixed(2)} ms event-loop CPU per login`,
        failureNote(alone),
      ]
        .filter(Boolean)
        .join("; "),
    ),
  ];
  return {
    rows,
    values: {
      "flood.idleP99": idleP99,
      "flood.floodP99": floodP99,
      "flood.ratio": ratio,
      "flood.loginsPerSecond": requestsPerSecond(alone),
      "flood.pacedRate": rate,
      ...(eventLoopMsPerLogin === undefined ? {} : { "flood.eventLoopMsPerLogin": eventLoopMsPerLogin }),
    },
  };
}
