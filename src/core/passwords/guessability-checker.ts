import type { Worker } from "node:worker_threads";
import { AuthError } from "../errors.ts";
import { siblingEntry, spawnWorker } from "../workers/spawn-worker.ts";
import type { EstimateReply, EstimateRequest } from "./guessability-messages.ts";
import { estimateGuesses, type GuessEstimate } from "./password-guessability.ts";

/** Estimates allowed to wait for the worker (each costs it 10-20 ms); past that, callers are told to retry. */
const MAX_WAITING = 256;
/**
 * The worker stops after this long without a check, giving back its ~30 MB: checks come with
 * sign-ups and password changes, often hours apart, and the next one rebuilds the dictionaries
 * on the worker (about 0.2 s) rather than on the event loop.
 */
const IDLE_MS = 5 * 60_000;

export interface GuessabilityCheckerOptions {
  /** The worker's module; for tests (a worker that fails in a chosen way). */
  entry?: URL;
  /** How long the worker may sit idle before it stops (default 5 minutes). */
  idleMs?: number;
}

/** Estimates password guessability off the event loop. */
export interface GuessabilityChecker {
  /** The estimate for `text`, computed on the worker thread. */
  estimate(text: string, userInputs: readonly string[]): Promise<GuessEstimate>;
  /** Stops the worker; a later estimate starts a new one. */
  close(): Promise<void>;
  /** Whether a worker thread is running now (for tests and metrics). */
  readonly running: boolean;
}

interface Waiting {
  request: EstimateRequest;
  resolve: (estimate: GuessEstimate) => void;
  reject: (error: Error) => void;
}

/**
 * Runs zxcvbn on a worker thread. A check costs 10-20 ms of CPU and its dictionaries 24 MB of
 * heap: on the main thread the first would stall every request behind it, and the second made
 * each full garbage collection about twice as long (both measured in `npm run bench`).
 *
 * The worker starts on the first estimate and keeps the process alive only while estimates
 * are waiting. If it cannot start at all (its file missing, e.g. in a bundle), estimates run on
 * this thread instead; if it dies later, waiting estimates fail with `unavailable` and the next
 * one starts a new worker. An idle worker stops after `idleMs`.
 */
export function createGuessabilityChecker(options: GuessabilityCheckerOptions = {}): GuessabilityChecker {
  const entry = options.entry ?? siblingEntry("guessability-worker", import.meta.url);
  const idleMs = options.idleMs ?? IDLE_MS;
  let worker: Worker | undefined;
  let idleTimer: ReturnType<typeof setTimeout> | undefined;
  /** Whether the current worker has answered at least once (it started). */
  let answered = false;
  let inThread = false;
  let nextId = 1;
  const waiting = new Map<number, Waiting>();

  const settle = (reply: EstimateReply) => {
    answered = true;
    const job = waiting.get(reply.id);
    if (!job) return;
    waiting.delete(reply.id);
    if ("estimate" in reply) job.resolve(reply.estimate);
    else job.reject(new Error(`password check failed: ${reply.error}`));
    if (waiting.size === 0 && worker !== undefined) {
      worker.unref();
      const idle = worker;
      idleTimer = setTimeout(() => {
        if (worker !== idle || waiting.size > 0) return;
        worker = undefined; // forgotten first: an estimate arriving now starts a new worker
        void idle.terminate();
      }, idleMs);
      idleTimer.unref();
    }
  };

  const runInThread = (job: Waiting) => {
    try {
      job.resolve(estimateGuesses(job.request.text, job.request.userInputs));
    } catch (error) {
      job.reject(error instanceof Error ? error : new Error(String(error)));
    }
  };

  const lost = (failed: Worker, cause: Error | undefined) => {
    if (worker !== failed) return;
    worker = undefined;
    const jobs = [...waiting.values()];
    waiting.clear();
    if (!answered && cause !== undefined) {
      // It never started: judge on this thread from now on rather than refuse every password.
      inThread = true;
      for (const job of jobs) runInThread(job);
      return;
    }
    const error = new AuthError("unavailable", "The password check stopped unexpectedly. Try again.", {
      ...(cause === undefined ? {} : { cause }),
    });
    for (const job of jobs) job.reject(error);
  };

  const start = (): Worker => {
    const started = spawnWorker(entry);
    answered = false;
    started.on("message", settle);
    started.on("error", (error) => lost(started, error));
    started.on("exit", () => lost(started, undefined));
    return started;
  };

  return {
    estimate(text, userInputs) {
      if (waiting.size >= MAX_WAITING) {
        return Promise.reject(
          new AuthError("too_many_requests", "The server is busy checking passwords. Try again in a moment.", {
            retryAfter: 1,
          }),
        );
      }
      return new Promise<GuessEstimate>((resolve, reject) => {
        const request: EstimateRequest = { id: nextId++, text, userInputs };
        const job = { request, resolve, reject };
        clearTimeout(idleTimer);
        if (!inThread && worker === undefined) {
          try {
            worker = start();
          } catch {
            inThread = true; // no way to start one here (e.g. from source without tsx)
          }
        }
        if (inThread || worker === undefined) return runInThread(job);
        waiting.set(request.id, job);
        worker.ref();
        worker.postMessage(request);
      });
    },
    get running() {
      return worker !== undefined;
    },
    async close() {
      clearTimeout(idleTimer);
      const stopping = worker;
      if (stopping === undefined) return;
      await stopping.terminate();
    },
  };
}

let shared: GuessabilityChecker | undefined;

/** One checker per process: its worker holds one copy of the dictionaries for every policy. */
export function sharedGuessabilityChecker(): GuessabilityChecker {
  shared ??= createGuessabilityChecker();
  return shared;
}
