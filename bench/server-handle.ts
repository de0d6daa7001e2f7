import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { ReadyMessage, ServerCommand, ServerReply } from "./server-protocol.ts";

const SERVER_SCRIPT = fileURLToPath(new URL("./server-process.ts", import.meta.url));
const START_TIMEOUT_MS = 90_000;

type CommandBody = ServerCommand extends infer C ? (C extends ServerCommand ? Omit<C, "id"> : never) : never;

/** The forked server: its address and tokens, a way to send it commands, and a way to stop it. */
export interface ServerHandle {
  ready: ReadyMessage;
  pid: number;
  command<T>(body: CommandBody): Promise<T>;
  stop(): Promise<void>;
}

export interface ServerStartOptions {
  database: string;
  secret: string;
  /** Access tokens (one login each) to hand out. */
  sessions: number;
  loginUsers: number;
  /** For a shared database (PostgreSQL): the key-encryption key, so no key file is written. */
  keyEncryptionKey?: string;
}

/** `BENCH_CPU_PROFILE=<dir>`: the server writes a V8 CPU profile there when it stops (open it in Chrome DevTools). */
function profileArgs(): string[] {
  const directory = process.env["BENCH_CPU_PROFILE"];
  return directory ? ["--cpu-prof", `--cpu-prof-dir=${directory}`] : [];
}

/** Forks bench/server-process.ts under tsx, so the server never shares a CPU-bound event loop with the load generator. */
export function startServer(options: ServerStartOptions): Promise<ServerHandle> {
  const child: ChildProcess = fork(SERVER_SCRIPT, [], {
    execArgv: ["--import", "tsx", "--expose-gc", ...profileArgs()],
    env: {
      ...process.env,
      BENCH_DATABASE: options.database,
      BENCH_SECRET: options.secret,
      BENCH_SESSIONS: String(options.sessions),
      BENCH_LOGIN_USERS: String(options.loginUsers),
      ...(options.keyEncryptionKey === undefined ? {} : { BENCH_KEY_ENCRYPTION_KEY: options.keyEncryptionKey }),
    },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let nextId = 1;

  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error("bench server did not start within 90 s"));
    }, START_TIMEOUT_MS);
    child.once("exit", (code) => {
      clearTimeout(timer);
      const error = new Error(`bench server exited (code ${code})`);
      for (const waiter of pending.values()) waiter.reject(error);
      pending.clear();
      reject(error);
    });
    child.on("message", (message: ReadyMessage | ServerReply) => {
      if ("type" in message) {
        clearTimeout(timer);
        resolve({
          ready: message,
          pid: child.pid!,
          command: <T>(body: CommandBody) =>
            new Promise<T>((resolveCommand, rejectCommand) => {
              const id = nextId++;
              pending.set(id, { resolve: resolveCommand as (value: unknown) => void, reject: rejectCommand });
              child.send({ ...body, id });
            }),
          stop: () =>
            new Promise<void>((resolveStop) => {
              if (child.exitCode !== null) return resolveStop();
              child.once("exit", () => resolveStop());
              child.kill("SIGTERM");
            }),
        });
        return;
      }
      const waiter = pending.get(message.id);
      if (!waiter) return;
      pending.delete(message.id);
      if (message.ok) waiter.resolve(message.result);
      else waiter.reject(new Error(`bench server: ${message.error}`));
    });
  });
}
