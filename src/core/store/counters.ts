import type { RateLimiterAbstract } from "rate-limiter-flexible";

/**
 * A fixed-window counter per key, as the throttles use it. It is rate-limiter-flexible's
 * limiter interface, so any of that library's backends (memory, PostgreSQL, Redis, …) fits.
 */
export type CounterLimiter = Pick<RateLimiterAbstract, "consume" | "penalty" | "reward" | "get" | "block" | "delete">;

export interface CounterOptions {
  /** Namespaces the keys in a shared store. */
  keyPrefix: string;
  /** Points allowed per window. */
  points: number;
  /** Window length; a key's window starts with its first point. */
  durationSeconds: number;
}

/**
 * Where throttle counters live. A store offers them so that instances sharing a database also
 * share their limits; windows and blocks are timed by the counter store's own clock.
 */
export interface CounterStore {
  /**
   * `"shared"`: every instance using the same database counts together.
   * `"process"`: only this process's attempts count (right for a database one process uses).
   */
  readonly scope: "process" | "shared";
  limiter(options: CounterOptions): CounterLimiter;
}
