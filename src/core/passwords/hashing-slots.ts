import { availableParallelism } from "node:os";
import { AuthError } from "../errors.ts";

export interface HashingSlotsOptions {
  /** Hashes running at once. Default: one less than the cores (at least 1), so a core stays free for the event loop. */
  maxConcurrent?: number;
  /** Hashes allowed to wait; past that, callers are told to retry. Default 256. */
  maxQueued?: number;
}

export interface HashingSlots {
  run<T>(work: () => Promise<T>): Promise<T>;
  readonly running: number;
  readonly queued: number;
}

/**
 * Bounds how many argon2 computations run at once. argon2 runs on libuv's thread pool (4
 * threads), so it never blocks the event loop directly — but on a 2-core machine four
 * memory-hard hashes starve it of CPU: measured, a protected route's p99 went from ~20 ms to
 * seconds during a login flood. Keeping hashes to cores − 1 leaves the event loop a core,
 * at the cost of queueing logins; a full queue answers 429 with Retry-After instead of
 * letting latency grow without bound.
 */
export function createHashingSlots(options: HashingSlotsOptions = {}): HashingSlots {
  const maxConcurrent = options.maxConcurrent ?? Math.max(1, availableParallelism() - 1);
  const maxQueued = options.maxQueued ?? 256;
  if (!Number.isSafeInteger(maxConcurrent) || maxConcurrent < 1) {
    throw new AuthError("invalid_config", 'Gatehouse option "argon2.maxConcurrent" must be a whole number of at least 1.');
  }
  if (!Number.isSafeInteger(maxQueued) || maxQueued < 0) {
    throw new AuthError("invalid_config", 'Gatehouse option "argon2.maxQueued" must be a whole number of at least 0.');
  }
  let running = 0;
  const waiting: (() => void)[] = [];

  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else running--;
  };

  return {
    get running() {
      return running;
    },
    get queued() {
      return waiting.length;
    },
    async run(work) {
      if (running < maxConcurrent) running++;
      else if (waiting.length >= maxQueued) {
        throw new AuthError("too_many_requests", "The server is busy checking passwords. Try again in a moment.", { retryAfter: 1 });
      } else {
        // The slot is handed over directly by release(), so `running` does not change here.
        await new Promise<void>((resolve) => waiting.push(resolve));
      }
      try {
        return await work();
      } finally {
        release();
      }
    },
  };
}
