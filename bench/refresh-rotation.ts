import { randomBytes, randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createGatehouse, type Gatehouse } from "../src/gatehouse.ts";
import { createLogger } from "../src/logging/logger.ts";
import type { BenchSettings, PartResult, ResultRow } from "./results.ts";

const CALLER = { ip: "127.0.0.1", userAgent: "gatehouse-bench" };
const POSTGRES_STORE = fileURLToPath(new URL("../src/store/postgres/driver.ts", import.meta.url));

/** Rotates one chain for `seconds`: each refresh token is exchanged for its successor, as a client would. */
async function rotateChain(auth: Gatehouse, first: string, until: number): Promise<number> {
  let token = first;
  let rotations = 0;
  while (performance.now() < until) {
    token = (await auth.service.refresh(token)).refreshToken;
    rotations++;
  }
  return rotations;
}

/** Sequential rotations/s (one chain), then with `concurrency` chains in flight at once. */
async function measure(auth: Gatehouse, settings: BenchSettings): Promise<{ sequential: number; concurrent: number }> {
  const { seconds, concurrency } = settings.refresh;
  const username = `bench-refresh-${randomUUID().slice(0, 8)}`;
  const password = randomBytes(18).toString("base64url");
  await auth.service.register(username, password, CALLER);
  const tokens: string[] = [];
  for (let n = 0; n <= concurrency; n++) tokens.push((await auth.service.login(username, password, CALLER)).refreshToken);

  // Warm-up: statements prepared, pages cached.
  await rotateChain(auth, tokens.pop()!, performance.now() + 200);
  const sequentialStart = performance.now();
  const sequential = await rotateChain(auth, tokens.pop()!, sequentialStart + seconds * 1000);
  const sequentialSeconds = (performance.now() - sequentialStart) / 1000;

  const concurrentStart = performance.now();
  const counts = await Promise.all(tokens.map((token) => rotateChain(auth, token, concurrentStart + seconds * 1000)));
  const concurrentSeconds = (performance.now() - concurrentStart) / 1000;
  return { sequential: sequential / sequentialSeconds, concurrent: counts.reduce((a, b) => a + b, 0) / concurrentSeconds };
}

function rowsFor(store: string, result: { sequential: number; concurrent: number }, concurrency: number): ResultRow[] {
  const section = `Refresh rotation through service.refresh (${store})`;
  return [
    { section, name: "one chain at a time", value: result.sequential, unit: "rotations/s" },
    { section, name: `${concurrency} chains in flight`, value: result.concurrent, unit: "rotations/s" },
  ];
}

/**
 * Refresh-token rotations per second through the real service (lookup, reuse check, successor
 * insert, session touch, new access token) on a SQLite file in a temp dir; and on PostgreSQL
 * when DATABASE_URL names one and this build has a PostgreSQL store.
 */
export async function benchRefreshRotation(settings: BenchSettings, log: (line: string) => void): Promise<PartResult> {
  const rows: ResultRow[] = [];
  const values: Record<string, number> = {};
  const logger = createLogger({ level: "silent" });

  const directory = mkdtempSync(join(tmpdir(), "gatehouse-bench-refresh-"));
  try {
    const auth = await createGatehouse({ database: `sqlite:${join(directory, "refresh.db")}`, logger });
    try {
      const result = await measure(auth, settings);
      rows.push(...rowsFor("SQLite file", result, settings.refresh.concurrency));
      values["refresh.sqlite.sequential"] = result.sequential;
      values["refresh.sqlite.concurrent"] = result.concurrent;
    } finally {
      await auth.close();
    }
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }

  const databaseUrl = process.env["DATABASE_URL"] ?? "";
  if (/^postgres(ql)?:\/\//.test(databaseUrl)) {
    if (!existsSync(POSTGRES_STORE)) {
      log("DATABASE_URL names PostgreSQL, but src/store/postgres/ has no store yet: skipping PostgreSQL rotation.");
    } else {
      log("refresh rotation on PostgreSQL (DATABASE_URL) …");
      const auth = await createGatehouse({ database: databaseUrl, logger });
      try {
        const result = await measure(auth, settings);
        rows.push(...rowsFor("PostgreSQL", result, settings.refresh.concurrency));
        values["refresh.postgres.sequential"] = result.sequential;
        values["refresh.postgres.concurrent"] = result.concurrent;
      } finally {
        await auth.close();
      }
    }
  }
  return { rows, values };
}
