/**
 * Runs generated requests like the fuzz test, but keeps going after a failure and groups
 * every broken invariant by kind, with the first request that showed it. For triage: the
 * test stops at the first failure; this lists them all.
 *
 *   node --import tsx test/fuzz/survey.ts <sqlite|postgres> <high|default> <requests> [seed]
 */
import fc from "fast-check";
import { fuzzRequest } from "./arbitraries.ts";
import { type LimitsKind, type StoreKind, startFuzzTarget } from "./fuzz-target.ts";
import { describeBytes } from "./materialize.ts";
import { FuzzSession } from "./run-fuzz.ts";

const [store = "sqlite", limits = "high", count = "500", seedText] = process.argv.slice(2);
const seed = seedText === undefined ? (Math.random() * 2 ** 31) | 0 : Number(seedText);
const target = await startFuzzTarget(store as StoreKind, limits as LimitsKind);
const groups = new Map<string, { count: number; first: number; example: string }>();
const timings = new Map<string, { count: number; ms: number }>();
try {
  const session = await FuzzSession.open(target);
  const requests = fc.sample(fuzzRequest(limits === "high" ? "broad" : "throttle"), { seed, numRuns: Number(count) });
  for (const [index, request] of requests.entries()) {
    const started = performance.now();
    const { violations, concrete, outcome } = await session.exchange(request);
    const timingKey = `${request.route} ${outcome.response?.status ?? 0}`;
    const timing = timings.get(timingKey) ?? { count: 0, ms: 0 };
    timing.count++;
    timing.ms += performance.now() - started;
    timings.set(timingKey, timing);
    for (const violation of violations) {
      const key = `${violation.rule}: ${violation.detail
        .replace(/"(?:[^"\\]|\\.)*"/g, '"…"')
        .replace(/\d{4,}/g, "N")
        .slice(0, 160)}`;
      const group = groups.get(key);
      if (group) group.count++;
      else {
        const answer = outcome.response
          ? `${outcome.response.status} ${outcome.response.body.toString("utf8").slice(0, 300)}`
          : outcome.failure;
        groups.set(key, {
          count: 1,
          first: index,
          example: `${violation.detail}\n${describeBytes(concrete.bytes, 1500)}\n→ ${answer}`,
        });
      }
    }
  }
  console.log(
    `survey ${store} ${limits}: ${requests.length} requests, seed ${seed}, ` +
      `healthy afterwards: ${await session.healthy()}`,
  );
  console.log(
    `statuses: ${[...session.summary.statuses]
      .sort(([a], [b]) => a - b)
      .map(([s, n]) => `${s}×${n}`)
      .join(" ")}`,
  );
  console.log(`genuine-token successes: ${session.summary.genuineSuccesses}, logins: ${session.summary.poolLogins}`);
  const slowest = [...timings].sort((a, b) => b[1].ms - a[1].ms).slice(0, 12);
  console.log(
    `time by route and status: ${slowest.map(([k, t]) => `${k} ${t.count}× ${Math.round(t.ms)} ms`).join("; ")}`,
  );
  for (const [key, group] of [...groups].sort((a, b) => b[1].count - a[1].count)) {
    console.log(`\n=== ${group.count}× ${key} (first at request #${group.first})\n${group.example}`);
  }
} finally {
  await target.close();
}
