/**
 * Soak: traffic from several processes against two instances on one PostgreSQL schema, one instance restarted in
 * the middle. SOAK_SECONDS sets the length (150 by default; `npm run soak` runs 1800). See docs/soak.md.
 */
import assert from "node:assert/strict";
import { fork } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { createThrowawaySchema, type ThrowawaySchema } from "../helpers/postgres-schema.ts";
import { checkDatabase } from "./database-check.ts";
import { Instance, urlWithSchema } from "./instances.ts";
import type { WorkerConfig, WorkerReport } from "./soak-types.ts";
import { printSummary } from "./summary.ts";

const SECONDS = Number(process.env["SOAK_SECONDS"] ?? 150);
const WORKERS = 3;
const LANES = 4;
const WARM_UP_MS = Math.min(10_000, (SECONDS * 1000) / 10);
const WORKER = fileURLToPath(new URL("./traffic-worker.ts", import.meta.url));
const TSX = import.meta.resolve("tsx");

/** Everything the traffic needs lifted; the rest stays at its defaults. */
function serverEnv(databaseUrl: string): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    LOG_LEVEL: "info",
    COOKIE_SECURE: "false",
    SHUTDOWN_DRAIN: "1s",
    SHUTDOWN_TIMEOUT: "10s",
    // Each soak user is its own client address (X-Forwarded-For through one trusted proxy hop): the
    // per-address registration limit has no environment variable.
    TRUST_PROXY: "1",
    LOGIN_MAX_ATTEMPTS: "1000000",
    LOGIN_MAX_ATTEMPTS_PER_IP: "1000000",
    // Limits on every login attempt, right or wrong (ignored by builds without them).
    LOGIN_RATE_PER_IP: "1000000",
    LOGIN_RATE_PER_ACCOUNT: "1000000",
  };
}

function runWorker(config: WorkerConfig): Promise<WorkerReport> {
  const child = fork(WORKER, [JSON.stringify(config)], { execArgv: ["--import", TSX], stdio: "inherit" });
  return new Promise((resolve, reject) => {
    let report: WorkerReport | undefined;
    const limit = setTimeout(() => child.kill("SIGKILL"), config.deadline - Date.now() + 120_000);
    child.once("message", (message) => (report = message as WorkerReport));
    child.once("exit", (code) => {
      clearTimeout(limit);
      if (report && code === 0) resolve(report);
      else reject(new Error(`traffic worker ${config.id} exited with ${code} and ${report ? "a" : "no"} report`));
    });
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe(`soak: ${WORKERS} traffic processes, two instances on one PostgreSQL, a restart, ${SECONDS} s`, () => {
  let schema: ThrowawaySchema;
  let directory: string;
  const instances = [new Instance("A"), new Instance("B")] as const;
  let env: Record<string, string>;

  before(async () => {
    schema = await createThrowawaySchema("soak");
    directory = mkdtempSync(join(tmpdir(), "gatehouse-soak-"));
    env = serverEnv(urlWithSchema(schema.url, schema.schema));
    // One after the other: the first creates the schema and the signing key, the second finds them.
    for (const instance of instances) await instance.start(directory, env);
  });
  after(async () => {
    for (const instance of instances) instance.kill();
    await schema?.drop();
    if (directory) rmSync(directory, { recursive: true, force: true });
  });

  it("answers every request as the session model expects, stays flat in memory, and leaves the database consistent", {
    timeout: (SECONDS + 240) * 1000,
  }, async () => {
    const [a, b] = instances;
    // Revocation (RFC 7009) joins the traffic when the server has it: an unknown token answers 200.
    const probe = await fetch(`${a.url}/auth/revoke`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "token=soak-probe",
    });
    const revoke = probe.status === 200;

    const started = Date.now();
    const deadline = started + SECONDS * 1000;
    const workers = Array.from({ length: WORKERS }, (_, index) =>
      runWorker({ id: index + 1, urls: [a.url, b.url], deadline, lanes: LANES, revoke }),
    );
    const settled = Promise.allSettled(workers);

    await sleep(WARM_UP_MS);
    for (const instance of instances) instance.sample("warm");

    // The restart: SIGTERM, a clean exit after the drain, and a new process on the same port.
    await sleep(Math.max(0, started + (SECONDS * 1000) / 2 - Date.now()));
    a.sample("end");
    const restartBegan = Date.now();
    assert.equal(await a.stop(), 0, `instance A did not exit cleanly:\n${a.server.output.join("")}`);
    await a.start(directory, env);
    const restartMs = Date.now() - restartBegan;
    await sleep(Math.min(WARM_UP_MS, Math.max(0, deadline - Date.now() - 1000)));
    a.sample("warm");

    const results = await settled;
    for (const instance of instances) instance.sample("end");
    const reports = results.map((result) => {
      if (result.status === "rejected") throw result.reason;
      return result.value;
    });

    const findings = await checkDatabase(
      schema.admin,
      schema.schema,
      reports.flatMap((report) => report.sessions),
    );
    printSummary({ seconds: SECONDS, revoke, restartMs, reports, instances, findings });

    const surprises = reports.flatMap((report) => report.surprises);
    const surpriseCount = reports.reduce((sum, report) => sum + report.surpriseCount, 0);
    assert.equal(surpriseCount, 0, `unexpected answers, first ones: ${JSON.stringify(surprises, null, 1)}`);
    const total = reports.reduce((sum, r) => sum + Object.values(r.answers).reduce((x, y) => x + y, 0), 0);
    assert.ok(total >= SECONDS * 5, `only ${total} requests in ${SECONDS} s`);
    assert.deepEqual(findings.endedButLive, [], "sessions the clients ended are ended in the database");
    assert.deepEqual(findings.liveButEnded, [], "sessions the clients hold are live in the database");
    assert.deepEqual(findings.forkedChains, [], "no session has two current refresh tokens");
    assert.deepEqual(findings.liveWithoutOneToken, [], "every live session has exactly one current refresh token");
    for (const instance of instances) {
      for (const life of instance.rss) {
        assert.ok(life.warm !== undefined && life.end !== undefined);
        const bound = 2 * life.warm + 50;
        assert.ok(life.end < bound, `instance ${instance.name} RSS ${life.end} MB exceeds ${bound} MB`);
      }
    }
    for (const instance of instances) assert.equal(await instance.stop(), 0, `instance ${instance.name} exit code`);
  });
});
