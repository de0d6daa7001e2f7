/** When a failed delivery is tried again, and when the outbox gives up on it. */
export interface RetryPolicy {
  /** Wait before the second attempt; each later wait doubles. */
  baseDelayMs: number;
  /** No wait is longer than this. */
  maxDelayMs: number;
  /** The attempt after which a message is dead (kept for inspection, never sent). */
  maxAttempts: number;
}

/**
 * The wait after `failedAttempts` failures: exponential (base × 2^(n-1), capped), then scaled
 * by a random factor in [0.5, 1) so instances that failed together (a receiver outage) do not
 * all come back at the same instant ("equal jitter").
 */
export function retryDelayMs(policy: RetryPolicy, failedAttempts: number, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(failedAttempts - 1, 0), 40);
  const capped = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** exponent);
  return Math.round(capped * (0.5 + random() * 0.5));
}
