import type { Worker } from "node:worker_threads";
import { AuthError } from "../errors.ts";
import { spawnWorker } from "./spawn-worker.ts";
import type { WorkReply, WorkRequest } from "./worker-messages.ts";

export interface WorkerPoolOptions<W, R> {
  /** The threads' module (see siblingEntry); it calls serveRequests. */
  entry: URL;
  /** Threads at most. */
  size: number;
  /** Does the work on this thread's side instead, when no thread can start at all. */
  fallback: (work: W) => Promise<R>;
  /** Message of the `unavailable` error the jobs of a thread that died fail with. */
  diedMessage: string;
  /** A thread idle this long stops, giving its memory back (default: never). */
  idleMs?: number;
}

/** Work done on worker threads. */
export interface WorkerPool<W, R> {
  run(work: W): Promise<R>;
  /** Jobs sent and not yet answered. */
  readonly pending: number;
  /** Threads running now. */
  readonly threads: number;
  /** Stops the threads; later work starts new ones. */
  close(): Promise<void>;
}

interface Job<R> {
  resolve: (result: R) => void;
  reject: (error: Error) => void;
  fallback: () => Promise<R>;
}

interface Thread<R> {
  worker: Worker;
  jobs: Map<number, Job<R>>;
  /** Whether it has answered at least once (it started). */
  answered: boolean;
  idle?: ReturnType<typeof setTimeout>;
}

/**
 * Up to `size` worker threads, started on demand; each job goes to an idle thread, a new one
 * while fewer than `size` run, else the least busy. A thread keeps the process alive only while
 * it has work. If a thread cannot start at all (its file missing, as in a single-file bundle, or
 * from source without tsx), every job runs through `fallback` from then on rather than failing;
 * if a thread dies later, its jobs fail with `unavailable` and later work starts a new one.
 */
export function createWorkerPool<W, R>(options: WorkerPoolOptions<W, R>): WorkerPool<W, R> {
  const { entry, size, fallback, diedMessage, idleMs } = options;
  const threads: Thread<R>[] = [];
  let useFallback = false;
  let nextId = 1;
  let pending = 0;

  const forget = (thread: Thread<R>): boolean => {
    const index = threads.indexOf(thread);
    if (index === -1) return false;
    threads.splice(index, 1);
    clearTimeout(thread.idle);
    return true;
  };

  const lost = (thread: Thread<R>, cause: Error | undefined) => {
    if (!forget(thread)) return;
    const jobs = [...thread.jobs.values()];
    thread.jobs.clear();
    pending -= jobs.length;
    if (!thread.answered && cause !== undefined) {
      useFallback = true;
      for (const job of jobs) job.fallback().then(job.resolve, job.reject);
      return;
    }
    const error = new AuthError("unavailable", diedMessage, cause === undefined ? {} : { cause });
    for (const job of jobs) job.reject(error);
  };

  const settle = (thread: Thread<R>, reply: WorkReply<R>) => {
    thread.answered = true;
    const job = thread.jobs.get(reply.id);
    if (!job) return;
    thread.jobs.delete(reply.id);
    pending--;
    if ("result" in reply) job.resolve(reply.result);
    else job.reject(new Error(reply.error));
    if (thread.jobs.size > 0) return;
    thread.worker.unref();
    if (idleMs === undefined) return;
    thread.idle = setTimeout(() => {
      // Forgotten first: work arriving while it stops goes to another thread.
      if (thread.jobs.size === 0 && forget(thread)) void thread.worker.terminate();
    }, idleMs);
    thread.idle.unref();
  };

  const start = (): Thread<R> => {
    const thread: Thread<R> = { worker: spawnWorker(entry), jobs: new Map(), answered: false };
    thread.worker.on("message", (reply: WorkReply<R>) => settle(thread, reply));
    thread.worker.on("error", (error) => lost(thread, error));
    thread.worker.on("exit", () => lost(thread, undefined));
    threads.push(thread);
    return thread;
  };

  const pick = (): Thread<R> | undefined => {
    const idle = threads.find((thread) => thread.jobs.size === 0);
    if (idle) return idle;
    if (threads.length < size) {
      try {
        return start();
      } catch {
        useFallback = true;
        return undefined;
      }
    }
    return threads.reduce((a, b) => (b.jobs.size < a.jobs.size ? b : a), threads[0]!);
  };

  return {
    run(work) {
      const thread = useFallback ? undefined : pick();
      if (thread === undefined) return fallback(work);
      return new Promise<R>((resolve, reject) => {
        const id = nextId++;
        clearTimeout(thread.idle);
        thread.jobs.set(id, { resolve, reject, fallback: () => fallback(work) });
        pending++;
        thread.worker.ref();
        thread.worker.postMessage({ id, work } satisfies WorkRequest<W>);
      });
    },
    get pending() {
      return pending;
    },
    get threads() {
      return threads.length;
    },
    async close() {
      await Promise.all(threads.map((thread) => thread.worker.terminate()));
    },
  };
}
