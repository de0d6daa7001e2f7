#!/usr/bin/env node
/**
 * Runs the node:test suite, or the test files named as arguments, with what it needs
 * (`node scripts/test.mjs [--test-name-pattern=…] [file…]`):
 * - PostgreSQL: TEST_DATABASE_URL when set, else one throwaway server for the whole run
 *   (test/helpers/embedded-postgres.ts), removed afterwards, also on failure or Ctrl-C;
 * - Chromium, when a browser test is selected (test/helpers/chromium.ts).
 * A missing piece fails the run with a sentence saying what to install. Exits with the suite's code.
 */
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { tsImport } from "tsx/esm/api";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SIGNAL_EXIT = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };

/** Every *.test.ts under a folder, in a stable order. */
function testFiles(dir) {
  return readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return testFiles(path);
      return entry.name.endsWith(".test.ts") ? [path] : [];
    });
}

// Options (`--test-name-pattern=…`) go to `node --test`; anything else names a test file.
const options = process.argv.slice(2).filter((arg) => arg.startsWith("-"));
const named = process.argv.slice(2).filter((arg) => !arg.startsWith("-"));
const files = named.length > 0 ? named.map((file) => resolve(file)) : testFiles(join(ROOT, "test"));
const needsBrowser = files.some((file) => file.includes(`${sep}test${sep}browser${sep}`));

let suite; // the running `node --test` process
let interrupted; // the signal that asked us to stop
for (const signal of Object.keys(SIGNAL_EXIT)) {
  process.on(signal, () => {
    interrupted = signal;
    // The suite runs in its own process group, so this reaches its test processes and their servers too.
    try {
      if (suite) process.kill(-suite.pid, signal);
    } catch {
      // already gone
    }
  });
}

function runSuite(env) {
  return new Promise((done) => {
    suite = spawn(process.execPath, ["--import", "tsx", "--test", "--test-concurrency=1", ...options, ...files], {
      cwd: ROOT,
      env,
      stdio: ["ignore", "inherit", "inherit"],
      detached: true,
    });
    suite.once("exit", (code, signal) => done(code ?? SIGNAL_EXIT[signal] ?? 1));
  });
}

let postgres;
try {
  const env = { ...process.env };
  if (needsBrowser) {
    const { resolveChromium } = await tsImport("../test/helpers/chromium.ts", import.meta.url);
    const chromium = await resolveChromium();
    console.log(`test: Chromium from ${chromium.source} (${chromium.executablePath})`);
  }
  if (env.TEST_DATABASE_URL) {
    console.log("test: PostgreSQL from TEST_DATABASE_URL");
  } else {
    const { startEmbeddedPostgres } = await tsImport("../test/helpers/embedded-postgres.ts", import.meta.url);
    const started = Date.now();
    postgres = await startEmbeddedPostgres();
    env.TEST_DATABASE_URL = postgres.url;
    console.log(`test: PostgreSQL from embedded-postgres on 127.0.0.1:${postgres.port} (${Date.now() - started} ms)`);
  }
  if (!interrupted) {
    console.log(`test: ${files.length === 1 ? relative(ROOT, files[0]) : `${files.length} files`}`);
    process.exitCode = await runSuite(env);
  }
} catch (error) {
  console.error(`test: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
} finally {
  await postgres?.stop();
  if (interrupted) process.exitCode = SIGNAL_EXIT[interrupted];
}
