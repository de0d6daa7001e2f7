import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const MAIN = fileURLToPath(new URL("../../src/server/main.ts", import.meta.url));
const TSX = import.meta.resolve("tsx");

export interface SpawnedServer {
  child: ChildProcess;
  url: string;
  output: string[];
  stop(): Promise<number | null>;
}

/** The environment a child server gets: only what the test passes, plus PATH/HOME. */
export function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env["PATH"] ?? "", HOME: process.env["HOME"] ?? "/tmp", ...extra };
}

/** Runs `src/server/main.ts` like `npm start` does, in `cwd`, and waits for its "listening" line. */
export function spawnServer(cwd: string, env: Record<string, string>, timeoutMs = 20_000): Promise<SpawnedServer> {
  const child = spawn(process.execPath, ["--import", TSX, MAIN], {
    cwd,
    env: cleanEnv({ HOST: "127.0.0.1", PORT: "0", ...env }),
  });
  const output: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output.join("")}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      output.push(String(chunk));
      const match = /Gatehouse listening on (http:\/\/[^\s"(]+)/.exec(output.join(""));
      if (match) {
        clearTimeout(timer);
        resolve({
          child,
          url: match[1]!,
          output,
          stop: async () => {
            child.kill("SIGTERM");
            return exited;
          },
        });
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${output.join("")}`));
    });
  });
}

/** Runs the server expecting it to refuse to start; resolves with exit code and output. */
export function runUntilExit(
  cwd: string,
  env: Record<string, string>,
): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ["--import", TSX, MAIN], {
    cwd,
    env: cleanEnv({ HOST: "127.0.0.1", PORT: "0", ...env }),
  });
  let output = "";
  child.stdout.on("data", (c) => (output += c));
  child.stderr.on("data", (c) => (output += c));
  const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  return new Promise((resolve) =>
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    }),
  );
}
