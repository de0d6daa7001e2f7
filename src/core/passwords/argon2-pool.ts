import type { Worker } from "node:worker_threads";
import { hash as hashOnLibuvPool, verify as verifyOnLibuvPool } from "@node-rs/argon2";
import { AuthError } from "../errors.ts";
import { siblingEntry, spawnWorker } from "../workers/spawn-worker.ts";
import type { Argon2Options, Argon2Reply, Argon2Request } from "./argon2-messages.ts";

/** Computes argon2 off the event loop. */
export interface Argon2Pool {
  hash(password: string, options: Argon2Options): Promise<string>;
  /** Rejects when `phc` is malformed (as @node-rs/argon2 does). */
  verify(phc: string, password: string): Promise<boolean>;
  /** Stops the workers; a later call starts new ones. */
  close(): Promise<void>;
}

type Work = { op: "hash"; password: string; options: Argon2Options } | { op: "verify"; password: string; phc: string };

interface Job {
  work: Work;
  resolve: (result: string | boolean) => void;
  reject: (error: Error) => void;
}

interface Thread {
  worker: Worker;
  jobs: Map<number, Job>;
  /** Whether it has answered at least once (it started). */
  answered: boolean;
}

const onLibuvPool = (work: Work): Promise<string | boolean> =>
  work.op === "hash" ? hashOnLibuvPool(work.password, work.options) : verifyOnLibuvPool(work.phc, work.password);

/**
 * Up to `size` worker threads computing argon2, each at a lower CPU priority than the event loop
 * (hashing-priority.ts): during a login flood the requests of signed-in users go first, and the
 * hashes take whatever CPU is left. (On libuv's thread pool, where @node-rs/argon2's async API
 * runs, hashes competed with the event loop as equals.) Callers bound the work in flight to
 * `size` (hashing-slots.ts); each job goes to the least busy worker.
 *
 * Workers start on demand and keep the process alive only while they have work. If one cannot
 * start at all (its file missing, as in a single-file bundle), every job runs on libuv's pool as
 * before; if one dies, its jobs fail with `unavailable` and a new one starts on demand.
 * `entry` is for tests.
 */
export function createArgon2Pool(
  size: number,
  entry: URL = siblingEntry("argon2-worker", import.meta.url),
): Argon2Pool {
  const threads: Thread[] = [];
  let onLibuv = false;
  let nextId = 1;

  const lost = (thread: Thread, cause: Error | undefined) => {
    const index = threads.indexOf(thread);
    if (index === -1) return;
    threads.splice(index, 1);
    const jobs = [...thread.jobs.values()];
    thread.jobs.clear();
    if (!thread.answered && cause !== undefined) {
      onLibuv = true; // it never started: hash as before rather than refuse every login
      for (const job of jobs) onLibuvPool(job.work).then(job.resolve, job.reject);
      return;
    }
    const error = new AuthError("unavailable", "Password hashing stopped unexpectedly. Try again.", {
      ...(cause === undefined ? {} : { cause }),
    });
    for (const job of jobs) job.reject(error);
  };

  const start = (): Thread => {
    const thread: Thread = { worker: spawnWorker(entry), jobs: new Map(), answered: false };
    thread.worker.on("message", (reply: Argon2Reply) => {
      thread.answered = true;
      const job = thread.jobs.get(reply.id);
      if (!job) return;
      thread.jobs.delete(reply.id);
      if ("result" in reply) job.resolve(reply.result);
      else job.reject(new Error(`argon2: ${reply.error}`));
      if (thread.jobs.size === 0) thread.worker.unref();
    });
    thread.worker.on("error", (error) => lost(thread, error));
    thread.worker.on("exit", () => lost(thread, undefined));
    threads.push(thread);
    return thread;
  };

  /** An idle worker, a new one while fewer than `size` exist, else the least busy. */
  const pick = (): Thread | undefined => {
    const idle = threads.find((thread) => thread.jobs.size === 0);
    if (idle) return idle;
    if (threads.length < size) {
      try {
        return start();
      } catch {
        onLibuv = true; // no way to start one here (e.g. from source without tsx)
        return undefined;
      }
    }
    return threads.reduce((a, b) => (b.jobs.size < a.jobs.size ? b : a), threads[0]!);
  };

  const run = (work: Work): Promise<string | boolean> =>
    new Promise((resolve, reject) => {
      const thread = onLibuv ? undefined : pick();
      if (thread === undefined) return void onLibuvPool(work).then(resolve, reject);
      const id = nextId++;
      thread.jobs.set(id, { work, resolve, reject });
      thread.worker.ref();
      thread.worker.postMessage({ id, ...work } satisfies Argon2Request);
    });

  return {
    hash: async (password, options) => String(await run({ op: "hash", password, options })),
    verify: async (phc, password) => (await run({ op: "verify", password, phc })) === true,
    async close() {
      await Promise.all(threads.map((thread) => thread.worker.terminate()));
    },
  };
}
