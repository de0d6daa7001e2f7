import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Store } from "../src/core/store/store.ts";
import { createGatehouse, type Gatehouse } from "../src/gatehouse.ts";
import { createLogger } from "../src/logging/logger.ts";
import { openStore } from "../src/store/open-store.ts";
import { median } from "./harness.ts";
import type { BenchPostgres } from "./postgres.ts";
import type { BenchSettings, PartResult, ResultRow } from "./results.ts";

const CALLER = { ip: "127.0.0.1", userAgent: "gatehouse-bench" };
/**
 * Rounds per contender, interleaved, so a load spike on the shared machine falls on all of them
 * alike. The PostgreSQL ÷ SQLite target takes the median of the per-round ratios: with 4 rounds
 * and one total, the same code measured 0.55, 0.59, 0.67 and 0.71 in four runs on one machine.
 */
const ROUNDS = 8;

interface Rate {
  rotations: number;
  seconds: number;
}

interface Contender {
  /** Key in the values, e.g. "postgres" → refresh.postgres.sequential. */
  key: string;
  section: string;
  auth: Gatehouse;
  /** The newest refresh token of each chain: chain 0 runs alone, the others together. */
  chains: string[];
  sequential: Rate;
  concurrent: Rate;
  /** Rotations per second with all chains in flight, round by round. */
  concurrentRounds: number[];
}

/** Rotates one chain until `until`: each refresh token is exchanged for its successor, as a client would. */
async function rotateChain(contender: Contender, index: number, until: number): Promise<number> {
  let rotations = 0;
  while (performance.now() < until) {
    contender.chains[index] = (await contender.auth.service.refresh(contender.chains[index]!)).refreshToken;
    rotations++;
  }
  return rotations;
}

async function prepare(key: string, section: string, auth: Gatehouse, concurrency: number): Promise<Contender> {
  const username = `bench-refresh-${randomUUID().slice(0, 8)}`;
  const password = randomBytes(18).toString("base64url");
  await auth.service.register(username, password, CALLER);
  const chains: string[] = [];
  for (let n = 0; n <= concurrency; n++)
    chains.push((await auth.service.login(username, password, CALLER)).refreshToken);
  const contender = {
    key,
    section,
    auth,
    chains,
    sequential: { rotations: 0, seconds: 0 },
    concurrent: { rotations: 0, seconds: 0 },
    concurrentRounds: [],
  };
  // Warm-up: statements prepared, pages cached.
  await rotateChain(contender, 0, performance.now() + 200);
  return contender;
}

async function round(contender: Contender, seconds: number): Promise<void> {
  const sequentialStart = performance.now();
  contender.sequential.rotations += await rotateChain(contender, 0, sequentialStart + seconds * 1000);
  contender.sequential.seconds += (performance.now() - sequentialStart) / 1000;
  const concurrentStart = performance.now();
  const others = contender.chains.map((_, index) => index).slice(1);
  const counts = await Promise.all(
    others.map((index) => rotateChain(contender, index, concurrentStart + seconds * 1000)),
  );
  const rotations = counts.reduce((a, b) => a + b, 0);
  const elapsed = (performance.now() - concurrentStart) / 1000;
  contender.concurrent.rotations += rotations;
  contender.concurrent.seconds += elapsed;
  contender.concurrentRounds.push(rotations / elapsed);
}

/**
 * The store as it rotated before it had a rotation of its own: without `rotateRefreshToken`,
 * the session service runs the rotation as a transaction of single statements (lock, reads,
 * writes, commit), one round trip each on PostgreSQL.
 */
function withoutOwnRotation(store: Store): Store {
  return new Proxy(store, {
    get(target, property) {
      if (property === "rotateRefreshToken") return undefined;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/**
 * Refresh-token rotations per second through the real service (one rotation, derived
 * successor, session touch, new access token), one chain at a time and with `concurrency`
 * chains in flight: on a SQLite file, and on PostgreSQL both with its one-statement rotation
 * and the transaction it replaced, side by side in interleaved rounds.
 */
export async function benchRefreshRotation(
  settings: BenchSettings,
  log: (line: string) => void,
  postgres: BenchPostgres | undefined,
): Promise<PartResult> {
  const { seconds, concurrency } = settings.refresh;
  const logger = createLogger({ level: "silent" });
  const directory = mkdtempSync(join(tmpdir(), "gatehouse-bench-refresh-"));
  const opened: Gatehouse[] = [];
  const stores: Store[] = [];
  const open = async (options: Parameters<typeof createGatehouse>[0]) => {
    const auth = await createGatehouse({ ...options, logger });
    opened.push(auth);
    return auth;
  };
  const rows: ResultRow[] = [];
  const values: Record<string, number> = {};
  try {
    const contenders: Contender[] = [];
    const sqlite = await open({ database: `sqlite:${join(directory, "refresh.db")}` });
    contenders.push(await prepare("sqlite", "SQLite file", sqlite, concurrency));
    if (postgres) {
      log(`refresh rotation on PostgreSQL (${postgres.label}) …`);
      const { keyEncryptionKey } = postgres;
      const statement = await open({ database: postgres.url, keyEncryptionKey });
      contenders.push(await prepare("postgres", "PostgreSQL, one statement", statement, concurrency));
      const store = await openStore(postgres.url);
      stores.push(store);
      const transaction = await open({ store: withoutOwnRotation(store), keyEncryptionKey });
      contenders.push(
        await prepare("postgresTransaction", "PostgreSQL, a transaction (before)", transaction, concurrency),
      );
    }
    for (let n = 0; n < ROUNDS; n++) for (const contender of contenders) await round(contender, seconds / ROUNDS);

    for (const { key, section, sequential, concurrent } of contenders) {
      const title = `Refresh rotation through service.refresh (${section})`;
      const [one, many] = [sequential.rotations / sequential.seconds, concurrent.rotations / concurrent.seconds];
      rows.push(
        { section: title, name: "one chain at a time", value: one, unit: "rotations/s" },
        { section: title, name: `${concurrency} chains in flight`, value: many, unit: "rotations/s" },
      );
      values[`refresh.${key}.sequential`] = one;
      values[`refresh.${key}.concurrent`] = many;
    }
    const [sqliteRun, postgresRun] = [contenders[0]!, contenders.find((c) => c.key === "postgres")];
    if (postgresRun) {
      const ratios = postgresRun.concurrentRounds.map((rate, n) => rate / sqliteRun.concurrentRounds[n]!);
      values["refresh.postgres.concurrentRatio"] = median(ratios);
      rows.push({
        section: "Refresh rotation: PostgreSQL ÷ SQLite, 16 chains in flight, round by round",
        name: `median of ${ratios.length} rounds`,
        value: median(ratios),
        unit: "×",
        note: ratios.map((ratio) => ratio.toFixed(2)).join(", "),
      });
    }
  } finally {
    for (const auth of opened) await auth.close().catch(() => undefined);
    for (const store of stores) await store.close().catch(() => undefined);
    rmSync(directory, { recursive: true, force: true });
  }
  return { rows, values };
}
