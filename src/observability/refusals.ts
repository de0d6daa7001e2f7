import { isAuthError } from "../core/errors.ts";
import type { Metrics, ThrottleLimit } from "../core/observability/metrics.ts";
import type { PasswordHasher } from "../core/passwords/argon2-hasher.ts";

/** Rethrows whatever `work` throws, first calling `onRefused` when it is a 429. */
async function notingRefusal<T>(work: Promise<T>, onRefused: () => void): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (isAuthError(error) && error.code === "too_many_requests") onRefused();
    throw error;
  }
}

/**
 * The login throttle, counting its refusals against the "login" limit. Only `check` refuses;
 * the other methods (and any added later) pass through untouched.
 */
export function countingLoginRefusals<T extends { check(username: string, ip: string): Promise<void> }>(
  throttle: T,
  metrics: Metrics,
  onRefused: (ip: string) => void,
): T {
  return {
    ...throttle,
    check: (username: string, ip: string) =>
      notingRefusal(throttle.check(username, ip), () => {
        metrics.throttled("login");
        onRefused(ip);
      }),
  };
}

/** A rate limit (e.g. registrations per address), counting its refusals against `limit`. */
export function countingRateLimitRefusals<T extends { consume(key: string): Promise<void> }>(
  rateLimit: T,
  metrics: Metrics,
  limit: ThrottleLimit,
): T {
  return {
    ...rateLimit,
    consume: (key: string) => notingRefusal(rateLimit.consume(key), () => metrics.throttled(limit)),
  };
}

/** The password hasher, counting "the hashing queue is full" refusals against "password_hashing". */
export function countingHasherRefusals(hasher: PasswordHasher, metrics: Metrics): PasswordHasher {
  const noted = () => metrics.throttled("password_hashing");
  return {
    ...hasher,
    hash: (password, address) => notingRefusal(hasher.hash(password, address), noted),
    verify: (phc, password, address) => notingRefusal(hasher.verify(phc, password, address), noted),
    verifyDummy: (password, address) => notingRefusal(hasher.verifyDummy(password, address), noted),
  };
}
