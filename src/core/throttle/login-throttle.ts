import { AuthError } from "../errors.ts";
import {
  type CounterLimiter,
  createCounterLimiter,
  retryAfterSeconds,
  type ThrottleBackend,
  withStore,
} from "./limiter-backend.ts";
import { createLoginAttempts, type LoginAttemptLimits } from "./login-attempts.ts";
import { accountAndIpKey, throttleIp } from "./throttle-keys.ts";

export type { AttemptRule, LoginAttemptLimits } from "./login-attempts.ts";

export { createRateLimit, type RateLimit, type RateLimitOptions } from "./rate-limit.ts";
export { memoryCounters, type ThrottleBackend } from "./limiter-backend.ts";

/**
 * One throttle rule: `attempts` failures within `windowSeconds` block for `blockSeconds`.
 * Resolved `loginThrottle.*` settings: defaults, ranges and their reasons are in core/config.
 */
export interface ThrottleLimit {
  /** Failed logins allowed per window; the next attempt is refused. */
  attempts: number;
  /** Window length; a key's window starts with its first failure. */
  windowSeconds: number;
  /** How long to refuse once `attempts` is reached (0: until the window ends). */
  blockSeconds: number;
}

export interface LoginThrottleOptions {
  /** Failures for one username from one address. */
  perAccountAndIp: ThrottleLimit;
  /** Failures from one address, whatever the usernames. */
  perIp: ThrottleLimit;
  /**
   * Every attempt, right or wrong, counted before the password is checked: per address, and per
   * account (past which only addresses the account logged in from before may try). Absent: only
   * failures are limited.
   */
  attempts?: LoginAttemptLimits;
  /**
   * Counter store; default `"memory"` (one instance). With several instances pass the store's
   * shared counters (`await store.counters()` on PostgreSQL): failures *and* in-flight slots
   * are then counted in the database, so a burst spread over the instances meets one limit.
   */
  backend?: ThrottleBackend;
}

export interface LoginThrottle {
  /**
   * Call before checking a password. Throws `AuthError("too_many_requests", …, { retryAfter })`
   * when either limit is exhausted. Otherwise it holds a slot for this attempt until
   * `recordFailure` or `recordSuccess`, so a burst of parallel guesses cannot slip past the limit.
   */
  check(username: string, ip: string): Promise<void>;
  /** Counts a failed login against both limits. */
  recordFailure(username: string, ip: string): Promise<void>;
  /** Clears the account+IP counter. The per-IP counter stays: one good login must not wash out a spray. */
  recordSuccess(username: string, ip: string): Promise<void>;
  /**
   * Gives back the slot of an attempt that ended with neither outcome (an error before the
   * password was judged), counting nothing. Without it the slot would stay taken until it
   * expires, and enough such errors would refuse the address's real logins.
   */
  release(username: string, ip: string): Promise<void>;
}

/** How long an attempt's slot is held if neither outcome is recorded (a crashed request). */
const IN_FLIGHT_WINDOW_SECONDS = 30;
/** Retry-After when refused only because other attempts are still being checked. */
const IN_FLIGHT_RETRY_SECONDS = 1;

interface Counter {
  limit: ThrottleLimit;
  /** Failed logins in the current window. */
  failures: CounterLimiter;
  /**
   * Attempts between check() and their outcome. Kept in the same backend as the failures (so
   * shared across instances on PostgreSQL); a slot whose instance dies expires after
   * IN_FLIGHT_WINDOW_SECONDS.
   */
  inFlight: CounterLimiter;
}

function createCounter(backend: ThrottleBackend, name: string, limit: ThrottleLimit): Counter {
  return {
    limit: { ...limit },
    failures: createCounterLimiter(backend, {
      keyPrefix: `gatehouse:login:${name}`,
      points: limit.attempts,
      durationSeconds: limit.windowSeconds,
    }),
    inFlight: createCounterLimiter(backend, {
      keyPrefix: `gatehouse:login:${name}:in-flight`,
      points: limit.attempts,
      durationSeconds: IN_FLIGHT_WINDOW_SECONDS,
    }),
  };
}

function tooManyFailedLogins(retryAfter: number): AuthError {
  return new AuthError(
    "too_many_requests",
    `Too many failed logins. Try again in ${retryAfter} ${retryAfter === 1 ? "second" : "seconds"}.`,
    {
      retryAfter,
    },
  );
}

/**
 * Failed-login throttling per account+IP and per IP (CONTRACT §3). Usernames are counted
 * case- and width-insensitively (NFKC, lower case), IPv6 addresses by /64. Guessing one account
 * from many addresses is bounded by the password policy, not by this throttle.
 *
 * @example
 * const throttle = createLoginThrottle(resolveConfig().loginThrottle);
 * await throttle.check(username, ip); // throws too_many_requests when exhausted
 * if (ok) await throttle.recordSuccess(username, ip);
 * else await throttle.recordFailure(username, ip);
 */
export function createLoginThrottle(options: LoginThrottleOptions): LoginThrottle {
  const backend = options.backend ?? "memory";
  const attempts = options.attempts ? createLoginAttempts(options.attempts, backend) : undefined;
  const account = createCounter(backend, "perAccountAndIp", options.perAccountAndIp);
  const address = createCounter(backend, "perIp", options.perIp);
  const keysOf = (username: string, ip: string): [Counter, string][] => [
    [account, accountAndIpKey(username, ip)],
    [address, throttleIp(ip)],
  ];

  const release = async ([counter, key]: [Counter, string]): Promise<void> => {
    const res = await counter.inFlight.reward(key);
    // Releasing a slot never taken (recordFailure without check) must not bank a spare attempt.
    if (res.consumedPoints < 0) await counter.inFlight.penalty(key, -res.consumedPoints);
  };

  /** Gives back the slots a check() took before it failed part-way. */
  const releaseTaken = async (entries: [Counter, string][], taken: PromiseSettledResult<unknown>[]) => {
    await Promise.allSettled(entries.filter((_, i) => taken[i]?.status === "fulfilled").map(release));
  };

  return {
    check: (username, ip) =>
      withStore(async () => {
        // Counted before anything else, so a refused attempt costs no hash.
        await attempts?.countFromAddress(ip);
        const entries = keysOf(username, ip);
        // Take the slot first, then read the failures: an attempt finishing meanwhile is seen
        // either as in flight or as a failure (recordFailure counts before it releases).
        const taken = await Promise.allSettled(entries.map(([counter, key]) => counter.inFlight.penalty(key)));
        let failures: Awaited<ReturnType<CounterLimiter["get"]>>[];
        try {
          failures = await Promise.all(entries.map(([counter, key]) => counter.failures.get(key)));
        } catch (error) {
          await releaseTaken(entries, taken);
          throw error;
        }
        const rejected = taken.find((result) => result.status === "rejected");
        if (rejected) {
          await releaseTaken(entries, taken);
          throw rejected.reason;
        }
        const inFlight = taken.map((result) => (result.status === "fulfilled" ? result.value : undefined));
        let retryAfter = 0;
        entries.forEach(([counter], i) => {
          const failed = failures[i] ?? null;
          const failedCount = failed?.consumedPoints ?? 0;
          if (failed && failedCount >= counter.limit.attempts) {
            retryAfter = Math.max(retryAfter, retryAfterSeconds(failed));
          } else if (failedCount + (inFlight[i]?.consumedPoints ?? 0) > counter.limit.attempts) {
            retryAfter = Math.max(retryAfter, IN_FLIGHT_RETRY_SECONDS);
          }
        });
        if (retryAfter > 0) {
          await Promise.all(entries.map(release));
          throw tooManyFailedLogins(retryAfter);
        }
        // Last: an attempt refused above (a blocked address) does not use up the account's attempts.
        try {
          await attempts?.countOnAccount(username, ip);
        } catch (error) {
          await Promise.allSettled(entries.map(release));
          throw error;
        }
      }),

    recordFailure: (username, ip) =>
      withStore(async () => {
        const entries = keysOf(username, ip);
        try {
          await Promise.all(
            entries.map(async ([counter, key]) => {
              const res = await counter.failures.penalty(key);
              // Exactly one failure reaches the limit; it starts the block.
              if (res.consumedPoints === counter.limit.attempts && counter.limit.blockSeconds > 0) {
                await counter.failures.block(key, counter.limit.blockSeconds);
              }
            }),
          );
        } finally {
          await Promise.allSettled(entries.map(release));
        }
      }),

    recordSuccess: (username, ip) =>
      withStore(async () => {
        const entries = keysOf(username, ip);
        try {
          await account.failures.delete(accountAndIpKey(username, ip));
          await attempts?.rememberAddress(username, ip);
        } finally {
          await Promise.allSettled(entries.map(release));
        }
      }),

    release: (username, ip) =>
      withStore(async () => {
        await Promise.all(keysOf(username, ip).map(release));
      }),
  };
}
