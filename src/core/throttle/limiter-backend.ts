import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
import { AuthError } from "../errors.ts";

/**
 * Where throttle counters live. `"memory"`: this process only — right for one instance.
 * A shared backend (PostgreSQL or Redis, through rate-limiter-flexible's store limiters)
 * will be added here so that every instance sees the same counters.
 */
export type ThrottleBackend = "memory";

/** The counter operations Gatehouse uses; every rate-limiter-flexible limiter provides them. */
export type CounterLimiter = Pick<RateLimiterAbstract, "consume" | "penalty" | "reward" | "get" | "block" | "delete">;

export interface CounterLimiterOptions {
  /** Namespaces the keys in a shared store. */
  keyPrefix: string;
  /** Points allowed per window. */
  points: number;
  /** Window length; a key's window starts with its first point. */
  durationSeconds: number;
}

/**
 * The one place that chooses a counter store. Windows and blocks are timed by the store
 * (rate-limiter-flexible uses the wall clock), not by Gatehouse's injectable Clock.
 */
export function createCounterLimiter(backend: ThrottleBackend, options: CounterLimiterOptions): CounterLimiter {
  switch (backend) {
    case "memory":
      return new RateLimiterMemory({ keyPrefix: options.keyPrefix, points: options.points, duration: options.durationSeconds });
    default:
      throw new AuthError("invalid_config", `Unknown throttle backend "${String(backend)}". Use "memory".`);
  }
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
