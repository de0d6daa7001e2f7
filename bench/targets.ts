import { FAST_JWT, GATEHOUSE_UNCACHED, RAW } from "./crypto-verify.ts";

/** One target of issue #4, checked against this run's numbers. */
export interface TargetOutcome {
  target: string;
  /** What was measured, e.g. "0.72× (172,000 vs 240,000 ops/s)". */
  measured: string;
  /** null when a part did not run (e.g. it failed), so the target could not be checked. */
  pass: boolean | null;
}

type Values = Readonly<Record<string, number>>;

const fmt = (n: number): string => (n >= 100 ? Math.round(n).toLocaleString("en-US") : n.toFixed(2));

/** `value ≥ factor × reference`, as a ratio. */
function atLeastRatio(
  target: string,
  values: Values,
  key: string,
  referenceKey: string,
  factor: number,
  unit: string,
): TargetOutcome {
  const value = values[key];
  const reference = values[referenceKey];
  if (value === undefined || reference === undefined) return { target, measured: "not measured", pass: null };
  const ratio = value / reference;
  // Three decimals: 0.848 must not print as a passing-looking 0.85.
  return {
    target,
    measured: `${ratio.toFixed(3)}× (${fmt(value)} vs ${fmt(reference)} ${unit})`,
    pass: ratio >= factor,
  };
}

/** A median of per-round ratios `≥ factor`, shown beside the totals it summarises. */
function medianRatioAtLeast(
  target: string,
  values: Values,
  ratioKey: string,
  [valueKey, referenceKey]: [string, string],
  factor: number,
  unit: string,
): TargetOutcome {
  const [ratio, value, reference] = [values[ratioKey], values[valueKey], values[referenceKey]];
  if (ratio === undefined || value === undefined || reference === undefined) {
    return { target, measured: "not measured", pass: null };
  }
  return {
    target,
    measured: `${ratio.toFixed(3)}× (totals ${fmt(value)} vs ${fmt(reference)} ${unit})`,
    pass: ratio >= factor,
  };
}

/** The targets: token and HTTP speed first, then revocation and refresh rotation on both databases. */
export function evaluateTargets(values: Values): TargetOutcome[] {
  const outcomes: TargetOutcome[] = [
    atLeastRatio(
      "HS256 verify ≥ 0.5× raw node:crypto",
      values,
      `verify.HS256.${GATEHOUSE_UNCACHED}`,
      `verify.HS256.${RAW}`,
      0.5,
      "ops/s",
    ),
    atLeastRatio(
      "HS256 verify ≥ 1.3× fast-jwt (uncached)",
      values,
      `verify.HS256.${GATEHOUSE_UNCACHED}`,
      `verify.HS256.${FAST_JWT}`,
      1.3,
      "ops/s",
    ),
    atLeastRatio(
      "EdDSA verify ≥ 0.85× raw node:crypto",
      values,
      `verify.EdDSA.${GATEHOUSE_UNCACHED}`,
      `verify.EdDSA.${RAW}`,
      0.85,
      "ops/s",
    ),
    atLeastRatio(
      "repeated token ≥ 0.9× fast-jwt's cache hit",
      values,
      "cache.gatehouse",
      "cache.fastjwt",
      0.9,
      "ops/s",
    ),
    atLeastRatio(
      "requireAuth() route ≥ 0.85× public route req/s",
      values,
      "http.protected.rps",
      "http.public.rps",
      0.85,
      "req/s",
    ),
    atLeastRatio(
      "requireAuth() route ≥ 3× the seeds' middleware req/s",
      values,
      "http.protected.rps",
      "http.seeds.rps",
      3,
      "req/s",
    ),
    atLeastRatio(
      "introspection ≥ 0.8× the protected route's req/s",
      values,
      "http.introspect.rps",
      "http.protected.rps",
      0.8,
      "req/s",
    ),
  ];

  const idle = values["flood.idleP99"];
  const flooded = values["flood.floodP99"];
  const ratio = values["flood.ratio"];
  outcomes.push(
    idle === undefined || flooded === undefined || ratio === undefined
      ? { target: "protected p99 during a login flood ≤ 3× idle p99", measured: "not measured", pass: null }
      : {
          target: "protected p99 during a login flood ≤ 3× idle p99 (median of rounds)",
          measured: `${ratio.toFixed(3)}× (median p99 ${flooded.toFixed(2)} ms vs ${idle.toFixed(2)} ms)`,
          pass: ratio <= 3,
        },
  );

  const rotations = values["refresh.sqlite.concurrent"];
  outcomes.push(
    rotations === undefined
      ? { target: "refresh rotation on SQLite ≥ 2,000/s", measured: "not measured", pass: null }
      : {
          target: "refresh rotation on SQLite ≥ 2,000/s",
          measured: `${fmt(rotations)} rotations/s`,
          pass: rotations >= 2000,
        },
  );

  outcomes.push(
    atLeastRatio(
      "session-checked requireAuth() ≥ 0.9× checkSession:false, SQLite",
      values,
      "http.protected.rps",
      "http.protectedStateless.rps",
      0.9,
      "req/s",
    ),
    atLeastRatio(
      "session-checked requireAuth() ≥ 0.9× checkSession:false, PostgreSQL",
      values,
      "http.pg.protected.rps",
      "http.pg.protectedStateless.rps",
      0.9,
      "req/s",
    ),
    medianRatioAtLeast(
      "PostgreSQL refresh rotations (16 in flight) ≥ 0.6× SQLite (median of rounds)",
      values,
      "refresh.postgres.concurrentRatio",
      ["refresh.postgres.concurrent", "refresh.sqlite.concurrent"],
      0.6,
      "rotations/s",
    ),
    atLeastRatio(
      "PostgreSQL one-chain rotation ≥ 2× the transaction it replaced",
      values,
      "refresh.postgres.sequential",
      "refresh.postgresTransaction.sequential",
      2,
      "rotations/s",
    ),
  );

  const entries = values["memory.cacheEntries"];
  const cap = values["memory.cacheCap"];
  outcomes.push(
    entries === undefined || cap === undefined
      ? { target: "verify cache stays within its cap", measured: "not measured", pass: null }
      : {
          target: "verify cache stays within its cap",
          measured:
            `${fmt(entries)} cached tokens after ${fmt(values["memory.distinctTokens"] ?? 0)} distinct ` +
            `(cap ${fmt(cap)})`,
          pass: entries <= cap,
        },
  );
  return outcomes;
}

export function targetLine(outcome: TargetOutcome): string {
  const verdict = outcome.pass === null ? "SKIP" : outcome.pass ? "PASS" : "FAIL";
  return `${verdict}  ${outcome.target}: ${outcome.measured}`;
}
