/**
 * `npm run bench` — Gatehouse beside raw node:crypto, jsonwebtoken, jose and fast-jwt, in
 * one run on one machine, reported as ratios (issue #4). `--quick` is a ~30 s smoke run.
 * Prints one table and the PASS/FAIL target lines, then writes bench-results/latest.{json,md}
 * (a quick run writes bench-results/quick.{json,md}, leaving the full results alone).
 * Always exits 0 when the bench itself ran: a failed target is a finding, not a crash.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { redactUrl } from "../src/store/open-store.ts";
import { benchTokenSigning } from "./crypto-sign.ts";
import { benchTokenVerification } from "./crypto-verify.ts";
import { seedsStyleSecret } from "./fixtures.ts";
import { benchHttpRoutes, POSTGRES_ROUTES, SQLITE_ROUTES } from "./http-routes.ts";
import { benchLoginFlood } from "./login-flood.ts";
import { describeMachine, machineLine } from "./machine.ts";
import { benchMemory } from "./memory.ts";
import { type BenchPostgres, openBenchPostgres } from "./postgres.ts";
import { benchRefreshRotation } from "./refresh-rotation.ts";
import { REPRODUCE_COMMAND, renderTable, writeReport } from "./report.ts";
import { FULL_SETTINGS, type PartResult, QUICK_SETTINGS, type ResultRow } from "./results.ts";
import { type ServerHandle, startServer } from "./server-handle.ts";
import { evaluateTargets, targetLine } from "./targets.ts";

const RESULTS_DIR = fileURLToPath(new URL("../bench-results/", import.meta.url));

const quick = process.argv.includes("--quick");
const settings = quick ? QUICK_SETTINGS : FULL_SETTINGS;
const machine = describeMachine();
const started = performance.now();
const log = (line: string) =>
  process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(0).padStart(3)} s] ${line}\n`);

const rows: ResultRow[] = [];
const values: Record<string, number> = {};
const failures: string[] = [];

function collect(parts: PartResult | PartResult[]): void {
  for (const part of Array.isArray(parts) ? parts : [parts]) {
    rows.push(...part.rows);
    Object.assign(values, part.values);
  }
}

/** Runs one part; if it throws, the others still run and its targets show as SKIP. */
async function part(name: string, run: () => Promise<PartResult | PartResult[]>): Promise<void> {
  log(`${name} …`);
  try {
    collect(await run());
  } catch (error) {
    const message = `${name}: ${error instanceof Error ? error.message : String(error)}`;
    failures.push(message);
    log(`FAILED ${message}`);
  }
}

log(`${machineLine(machine)}${quick ? " (quick)" : ""}`);

// CPU-bound micro-benchmarks first, while no server process competes for the two cores.
await part("token verification (HS256, EdDSA, ES256, cache hit)", () => benchTokenVerification(settings.micro));
await part("token signing (HS256, EdDSA, ES256)", () => benchTokenSigning(settings.micro));

// PostgreSQL for the parts measured on both databases; without one they run on SQLite only.
let postgres: BenchPostgres | undefined;
try {
  postgres = await openBenchPostgres(log);
  log(`PostgreSQL: ${postgres.label}`);
} catch (error) {
  failures.push(`PostgreSQL: ${error instanceof Error ? error.message : String(error)}`);
  log(`no PostgreSQL, its parts are skipped: ${String(error)}`);
}

await part("refresh rotation", () => benchRefreshRotation(settings, log, postgres));

const directory = mkdtempSync(join(tmpdir(), "gatehouse-bench-http-"));
let server: ServerHandle | undefined;
try {
  log("starting the server process …");
  server = await startServer({
    database: `sqlite:${join(directory, "server.db")}`,
    secret: seedsStyleSecret(),
    sessions: settings.http.connections,
    loginUsers: Math.max(1, Math.ceil(settings.flood.loginConnections / 2)),
  });
  const running = server;
  await part("HTTP routes (autocannon)", () => benchHttpRoutes(running, settings, SQLITE_ROUTES));
  await part("login flood", () => benchLoginFlood(running, settings, values["http.protected.rps"]));
  await part("server memory", () => benchMemory(running, settings));
} catch (error) {
  failures.push(`server: ${error instanceof Error ? error.message : String(error)}`);
  log(`FAILED to start the server: ${String(error)}`);
} finally {
  await server?.stop();
  rmSync(directory, { recursive: true, force: true });
}

if (postgres) {
  let pgServer: ServerHandle | undefined;
  try {
    log("starting the server process on PostgreSQL …");
    pgServer = await startServer({
      database: postgres.url,
      secret: seedsStyleSecret(),
      sessions: settings.http.connections,
      loginUsers: 0,
      keyEncryptionKey: postgres.keyEncryptionKey,
    });
    const running = pgServer;
    await part("HTTP routes on PostgreSQL (autocannon)", () => benchHttpRoutes(running, settings, POSTGRES_ROUTES));
  } catch (error) {
    failures.push(`PostgreSQL server: ${error instanceof Error ? error.message : String(error)}`);
    log(`FAILED to start the server on PostgreSQL: ${String(error)}`);
  } finally {
    await pgServer?.stop();
    await postgres.drop();
  }
}

const targets = evaluateTargets(values);
const durationSeconds = (performance.now() - started) / 1000;
const out: string[] = [
  "",
  `Gatehouse benchmark — ${machineLine(machine)}${quick ? " — QUICK smoke run, figures are rough" : ""}`,
  `Load average at the end: ${loadavg()
    .map((load) => load.toFixed(2))
    .join(", ")} (1, 5, 15 min)`,
  "",
  renderTable(rows),
  "",
  "Targets",
  ...targets.map((target) => `  ${targetLine(target)}`),
  ...(failures.length > 0 ? ["", "Parts that failed", ...failures.map((failure) => `  ${failure}`)] : []),
  "",
];
const databaseUrl = process.env["DATABASE_URL"] ?? "";
const command = [
  /^postgres(ql)?:\/\//.test(databaseUrl) ? `DATABASE_URL=${redactUrl(databaseUrl)} ` : "",
  REPRODUCE_COMMAND,
  quick ? " -- --quick" : "",
].join("");
const written = writeReport(
  { machine, settings, command, durationSeconds, rows, values, targets, failures },
  RESULTS_DIR,
  quick ? "quick" : "latest",
);
out.push(`Took ${durationSeconds.toFixed(0)} s. Wrote ${written.join(", ")}.`, `Reproduce: ${command}`, "");
process.stdout.write(out.join("\n"));
