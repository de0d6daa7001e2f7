import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
import { AuthError } from "../errors.ts";
import type { CounterLimiter, CounterOptions, CounterStore } from "../store/counters.ts";

export type { CounterLimiter, CounterOptions as CounterLimiterOptions } from "../store/counters.ts";

/**
 * Where throttle counters live. `"memory"`: this process only — right for one instance.
 * A {@link CounterStore}, usually the store's own (`await store.counters()`): on PostgreSQL
 * one table shared by every instance, so a limit counts attempts wherever they land.
 */
export type ThrottleBackend = "memory" | CounterStore;

/** Counters in this process's memory: what a store only one process uses can offer. */
export function memoryCounters(): CounterStore {
  return {
    scope: "process",
    limiter: (options) =>
      new RateLimiterMemory({
        keyPrefix: options.keyPrefix,
        points: options.points,
        duration: options.durationSeconds,
      }),
  };
}

const MEMORY = memoryCounters();

/**
 * The one place that chooses a counter store. Windows and blocks are timed by the store
 * (rate-limiter-flexible uses the wall clock), not by Gatehouse's injectable Clock.
 */
export function createCounterLimiter(backend: ThrottleBackend, options: CounterOptions): CounterLimiter {
  const counters: unknown = backend === "memory" ? MEMORY : backend;
  if (typeof (counters as Partial<CounterStore> | null)?.limiter !== "function") {
    throw new AuthError(
      "invalid_config",
      `Unknown throttle backend "${String(backend)}". Use "memory" or a store's counters (await store.counters()).`,
    );
  }
  return (counters as CounterStore).limiter(options);
}

/** Whole seconds until a counter frees up, at least 1 (what a Retry-After header can say). */
export function retryAfterSeconds(res: RateLimiterRes): number {
  return Math.max(1, Math.ceil(res.msBeforeNext / 1000));
}

/**
 * Runs a counter operation; a failing store (not a limit) becomes `AuthError("unavailable")`
 * so a broken backend answers 503, never 500.
 */
export async function withStore<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (error instanceof RateLimiterRes || error instanceof AuthError) throw error;
    throw new AuthError("unavailable", "The throttle store is unreachable. Try again shortly.", { cause: error });
  }
}
