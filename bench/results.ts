/** One line of the printed table. */
export interface ResultRow {
  /** Group heading, e.g. "HS256 verify". */
  section: string;
  /** What was measured, e.g. "Gatehouse (uncached)". */
  name: string;
  /** The throughput; null when the contender cannot do it (e.g. jsonwebtoken has no EdDSA). */
  value: number | null;
  /** "ops/s", "req/s", "rotations/s", "logins/s", "MiB", ... */
  unit: string;
  /** 99th-percentile latency, for HTTP rows. */
  p99Ms?: number;
  /** value divided by the section's reference row. */
  ratio?: number;
  /** Name of that reference row. */
  ratioTo?: string;
  /** Short remark printed after the numbers. */
  note?: string;
}

/** What each part of the bench hands back: rows to print, and named numbers for the targets. */
export interface PartResult {
  rows: ResultRow[];
  /** Named measurements, e.g. "verify.HS256.gatehouse" → ops/s. */
  values: Record<string, number>;
}

/** Fills `ratio` on every row of a section, relative to the row named `reference`. */
export function withRatios(rows: ResultRow[], reference: string): ResultRow[] {
  const base = rows.find((row) => row.name === reference)?.value;
  return rows.map((row) =>
    base && row.value !== null ? { ...row, ratio: row.value / base, ratioTo: reference } : row,
  );
}

/** Small sizes: the quick smoke run and the full run differ only in these. */
export interface BenchSettings {
  quick: boolean;
  micro: { warmupMs: number; rounds: number; roundMs: number };
  http: { connections: number; warmupSeconds: number; rounds: number; secondsPerRound: number };
  /** `rounds` alternating idle and flooded runs of `seconds` each; the target takes the median ratio. */
  flood: { seconds: number; loginConnections: number; rounds: number };
  refresh: { seconds: number; concurrency: number };
  memory: { sessions: number; verifications: number; verificationsPerToken: number };
}

export const FULL_SETTINGS: BenchSettings = {
  quick: false,
  micro: { warmupMs: 200, rounds: 15, roundMs: 50 },
  http: { connections: 10, warmupSeconds: 1, rounds: 8, secondsPerRound: 1 },
  flood: { seconds: 5, loginConnections: 8, rounds: 3 },
  refresh: { seconds: 6, concurrency: 16 },
  memory: { sessions: 100_000, verifications: 1_000_000, verificationsPerToken: 10 },
};

export const QUICK_SETTINGS: BenchSettings = {
  quick: true,
  micro: { warmupMs: 60, rounds: 7, roundMs: 25 },
  http: { connections: 10, warmupSeconds: 0.5, rounds: 2, secondsPerRound: 1 },
  flood: { seconds: 2, loginConnections: 8, rounds: 1 },
  refresh: { seconds: 1, concurrency: 16 },
  memory: { sessions: 20_000, verifications: 200_000, verificationsPerToken: 10 },
};
