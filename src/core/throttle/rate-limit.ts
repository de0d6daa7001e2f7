import { RateLimiterRes } from "rate-limiter-flexible";
import { AuthError } from "../errors.ts";
import { createCounterLimiter, retryAfterSeconds, type ThrottleBackend, withStore } from "./limiter-backend.ts";

export interface RateLimitOptions {
  /** Requests allowed per key per window. */
  points: number;
  /** Window length in seconds; a key's window starts with its first request. */
  durationSeconds: number;
  /** Counter store; default `"memory"` (one instance); the PostgreSQL backend shares it across instances. */
  backend?: ThrottleBackend;
  /** Key namespace in a shared store; default `"gatehouse:rate"`. */
  keyPrefix?: string;
}

export interface RateLimit {
  /** Counts one request for `key`; throws `AuthError("too_many_requests")` with `retryAfter` once over the limit. */
  consume(key: string): Promise<void>;
}

/**
 * A fixed-window request limit per key, e.g. registrations per IP per hour. `points` and
 * `durationSeconds` come from resolved settings (core/config), which checked their ranges.
 *
 * @example
 * const registrations = createRateLimit({ points: 20, durationSeconds: 3600 });
 * await registrations.consume(ip); // the 21st call within the hour throws too_many_requests
 */
export function createRateLimit(options: RateLimitOptions): RateLimit {
  const limiter = createCounterLimiter(options.backend ?? "memory", {
    keyPrefix: options.keyPrefix ?? "gatehouse:rate",
    points: options.points,
    durationSeconds: options.durationSeconds,
  });
  return {
    async consume(key) {
      try {
        await withStore(() => limiter.consume(key));
      } catch (error) {
        if (!(error instanceof RateLimiterRes)) throw error;
        const retryAfter = retryAfterSeconds(error);
        throw new AuthError(
          "too_many_requests",
          `Too many requests. Try again in ${retryAfter} ${retryAfter === 1 ? "second" : "seconds"}.`,
          {
            retryAfter,
          },
        );
      }
    },
  };
}
