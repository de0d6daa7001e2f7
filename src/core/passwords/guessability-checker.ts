import { AuthError } from "../errors.ts";
import { siblingEntry } from "../workers/spawn-worker.ts";
import { createWorkerPool } from "../workers/worker-pool.ts";
import type { EstimateWork } from "./guessability-messages.ts";
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

/**
 * Runs zxcvbn on a worker thread. A check costs 10-20 ms of CPU and its dictionaries 24 MB of
 * heap: on the main thread the first would stall every request behind it, and the second made
 * each full garbage collection about twice as long (both measured in `npm run bench`).
 *
 * The worker starts on the first estimate and stops after `idleMs` without one. If it cannot
 * start at all (its file missing, e.g. in a bundle), estimates run on this thread instead; if it
 * dies, waiting estimates fail with `unavailable` and the next one starts a new worker
 * (see worker-pool.ts).
 */
export function createGuessabilityChecker(options: GuessabilityCheckerOptions = {}): GuessabilityChecker {
  const pool = createWorkerPool<EstimateWork, GuessEstimate>({
    entry: options.entry ?? siblingEntry("guessability-worker", import.meta.url),
    size: 1,
    fallback: async ({ text, userInputs }) => estimateGuesses(text, userInputs),
    diedMessage: "The password check stopped unexpectedly. Try again.",
    idleMs: options.idleMs ?? IDLE_MS,
  });
  return {
    estimate(text, userInputs) {
      if (pool.pending >= MAX_WAITING) {
        return Promise.reject(
          new AuthError("too_many_requests", "The server is busy checking passwords. Try again in a moment.", {
            retryAfter: 1,
          }),
        );
      }
      return pool.run({ text, userInputs });
    },
    get running() {
      return pool.threads > 0;
    },
    close: () => pool.close(),
  };
}

let shared: GuessabilityChecker | undefined;

/** One checker per process: its worker holds one copy of the dictionaries for every policy. */
export function sharedGuessabilityChecker(): GuessabilityChecker {
  shared ??= createGuessabilityChecker();
  return shared;
}
