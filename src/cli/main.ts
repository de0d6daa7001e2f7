import { readFileSync } from "node:fs";
import { CommanderError } from "commander";
import { isAuthError } from "../core/errors.ts";
import { printError } from "./output.ts";
import { createProgram } from "./program.ts";
import { UsageError } from "./usage-error.ts";

/** Exit codes (CONTRACT §5). */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

function packageVersion(): string {
  try {
    const text = readFileSync(new URL("../../package.json", import.meta.url), "utf8");
    return (JSON.parse(text) as { version?: string }).version ?? "0.0.0";
  } catch {
    return "0.0.0";
  }
}

/**
 * Runs the CLI on `argv` (without node and script) and returns the exit code. Errors become
 * one `gatehouse: <message>` line on stderr; AuthError and usage messages never carry a
 * stack trace, a password or a token.
 */
export async function runCli(argv: readonly string[]): Promise<number> {
  const program = createProgram(packageVersion());
  try {
    await program.parseAsync([...argv], { from: "user" });
    return typeof process.exitCode === "number" ? process.exitCode : EXIT_OK;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version "fail" with exit code 0; everything else commander reports is usage.
      if (error.exitCode === 0) return EXIT_OK;
      return EXIT_USAGE;
    }
    if (error instanceof UsageError) {
      printError(error.message);
      return EXIT_USAGE;
    }
    if (isAuthError(error)) printError(error.message);
    else printError(error instanceof Error ? error.message : String(error));
    return EXIT_FAILURE;
  }
}

const code = await runCli(process.argv.slice(2));
// `serve` keeps running: its server holds the event loop open. Everything else ends here.
process.exitCode = code;
