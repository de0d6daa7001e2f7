import { AuthError } from "../errors.ts";

/** Resolved settings `argon2.maxConcurrent` and `argon2.maxQueued` (ranges and defaults: core/config). */
export interface HashingSlotsOptions {
  /** Hashes running at once. */
  maxConcurrent: number;
  /** Hashes allowed to wait; past that, callers are told to retry. */
  maxQueued: number;
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
export function createHashingSlots(options: HashingSlotsOptions): HashingSlots {
  const { maxConcurrent, maxQueued } = options;
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
        throw new AuthError("too_many_requests", "The server is busy checking passwords. Try again in a moment.", {
          retryAfter: 1,
        });
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
