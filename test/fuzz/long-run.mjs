#!/usr/bin/env node
/**
 * The long fuzz run (`npm run fuzz`): FUZZ_RUNS generated requests (default 100000) per
 * wide-open run, on SQLite and PostgreSQL, plus a fifth of that with the shipped limits.
 * Runs through scripts/test.mjs, which provides PostgreSQL; extra arguments go along,
 * e.g. `npm run fuzz -- --test-name-pattern=sqlite`.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));
const env = { ...process.env, FUZZ_RUNS: process.env.FUZZ_RUNS || "100000" };
const child = spawn(
  process.execPath,
  ["scripts/test.mjs", ...process.argv.slice(2), "test/fuzz/http-surface.test.ts"],
  {
    cwd: root,
    env,
    stdio: "inherit",
  },
);
child.once("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
