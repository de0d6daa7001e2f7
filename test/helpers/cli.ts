import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const CLI = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));
const TSX = import.meta.resolve("tsx");

/** How a `gatehouse` run ended, with everything it printed. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  cwd: string;
  /** Added to a bare environment (PATH and HOME only), as an operator's shell would set them. */
  env?: Record<string, string>;
  /** Written to its standard input, which is then closed (closed at once by default). */
  stdin?: string;
  /** Killed after this long (default 30 s). */
  timeoutMs?: number;
}

/** Runs the CLI from source (`src/cli/main.ts` under tsx) as a child process, as a user would. */
export function runCli(args: readonly string[], options: CliOptions): Promise<CliRun> {
  const env = { PATH: process.env["PATH"] ?? "", HOME: process.env["HOME"] ?? "/tmp", ...options.env };
  const child = spawn(process.execPath, ["--import", TSX, CLI, ...args], { cwd: options.cwd, env });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  child.stdin.end(options.stdin ?? "");
  const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 30_000);
  return new Promise((resolve) =>
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}
