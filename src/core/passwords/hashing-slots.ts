import { AuthError } from "../errors.ts";

/** Resolved settings `argon2.maxConcurrent`, `maxQueued` and `maxPerAddress` (ranges and defaults: core/config). */
export interface HashingSlotsOptions {
  /** Hashes running at once. */
  maxConcurrent: number;
  /** Hashes allowed to wait; past that, callers are told to retry. */
  maxQueued: number;
  /** Hashes one client address may have running or waiting at once; past that, callers are told to retry. */
  maxPerAddress: number;
}

/** How busy hashing is in this process. */
export interface HashingLoad {
  readonly running: number;
  readonly queued: number;
  /** Hashes begun since start: each one a real argon2 computation. */
  readonly started: number;
}

export interface HashingSlots extends HashingLoad {
  /**
   * Runs `work` in a slot, waiting in line when all are taken. One client `address` may hold at
   * most `maxPerAddress` places, running or waiting, so it cannot fill the queue and make
   * everyone else wait behind it.
   * @throws AuthError("too_many_requests", retryAfter 1) when the queue or the address's share is full.
   */
  run<T>(work: () => Promise<T>, address?: string): Promise<T>;
}

const busy = (message: string) => new AuthError("too_many_requests", message, { retryAfter: 1 });

/**
 * Bounds how many argon2 computations run at once. argon2 runs on libuv's thread pool (4
 * threads), so it never blocks the event loop directly — but on a 2-core machine four
 * memory-hard hashes starve it of CPU: measured, a protected route's p99 went from ~20 ms to
 * seconds during a login flood. Keeping hashes to cores − 1 leaves the event loop a core,
 * at the cost of queueing logins; a full queue answers 429 with Retry-After instead of
 * letting latency grow without bound.
 */
export function createHashingSlots(options: HashingSlotsOptions): HashingSlots {
  const { maxConcurrent, maxQueued, maxPerAddress } = options;
  let running = 0;
  let started = 0;
  const waiting: (() => void)[] = [];
  /** Places (running or waiting) held per address; an address with none has no entry. */
  const held = new Map<string, number>();

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
    get started() {
      return started;
    },
    async run(work, address) {
      const mine = address === undefined ? 0 : (held.get(address) ?? 0);
      if (address !== undefined && mine >= maxPerAddress) {
        throw busy("Your address already has password checks in progress. Try again in a moment.");
      }
      if (running >= maxConcurrent && waiting.length >= maxQueued) {
        throw busy("The server is busy checking passwords. Try again in a moment.");
      }
      if (address !== undefined) held.set(address, mine + 1);
      try {
        if (running < maxConcurrent) running++;
        // The slot is handed over directly by release(), so `running` does not change here.
        else await new Promise<void>((resolve) => waiting.push(resolve));
        started++;
        try {
          return await work();
        } finally {
          release();
        }
      } finally {
        if (address !== undefined) {
          const left = (held.get(address) ?? 1) - 1;
          if (left > 0) held.set(address, left);
          else held.delete(address);
        }
      }
    },
  };
}
