import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { type SpawnedServer, spawnServer } from "../helpers/spawn-server.ts";

/** Resident memory of a process in MB, from /proc/<pid>/status (Linux). */
export function rssMegabytes(pid: number | undefined): number {
  assert.ok(pid, "no pid");
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  assert.ok(match, `no VmRSS for ${pid}`);
  return Math.round(Number(match[1]) / 102.4) / 10;
}

/** A server URL with the schema every instance must use (libpq `options`, which pg reads from the URL). */
export function urlWithSchema(databaseUrl: string, schema: string): string {
  const url = new URL(databaseUrl);
  url.searchParams.set("options", `-c search_path=${schema}`);
  return url.toString();
}

/** Keeps the last lines of a long-running server's output, so hours of request logs do not pile up in the test. */
function trimOutput(server: SpawnedServer): NodeJS.Timeout {
  const timer = setInterval(() => server.output.splice(0, Math.max(0, server.output.length - 200)), 5000);
  timer.unref();
  return timer;
}

/** One standalone server process that can be restarted on the same port. */
export class Instance {
  readonly name: string;
  server!: SpawnedServer;
  port = 0;
  /** RSS (MB) right after each start, and after the warm-up. */
  readonly rss: { start: number; warm?: number; end?: number }[] = [];
  #trim?: NodeJS.Timeout;

  constructor(name: string) {
    this.name = name;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(cwd: string, env: Record<string, string>): Promise<void> {
    this.server = await spawnServer(cwd, { ...env, PORT: String(this.port) });
    this.port = Number(new URL(this.server.url).port);
    this.#trim = trimOutput(this.server);
    this.rss.push({ start: rssMegabytes(this.server.child.pid) });
  }

  sample(moment: "warm" | "end"): void {
    const last = this.rss.at(-1);
    assert.ok(last);
    last[moment] = rssMegabytes(this.server.child.pid);
  }

  /** SIGTERM; resolves with the exit code once the process is gone. */
  async stop(): Promise<number | null> {
    clearInterval(this.#trim);
    if (this.server.child.exitCode !== null) return this.server.child.exitCode;
    return this.server.stop();
  }

  kill(): void {
    clearInterval(this.#trim);
    if (this.server?.child.exitCode === null) this.server.child.kill("SIGKILL");
  }
}
