import { createHash } from "node:crypto";
import { RateLimiterRes } from "rate-limiter-flexible";
import { AuthError } from "../errors.ts";
import { createCounterLimiter, retryAfterSeconds, type ThrottleBackend } from "./limiter-backend.ts";
import { accountAndIpKey, throttleIp, throttleUsername } from "./throttle-keys.ts";

/** Every login attempt, right or wrong, allowed per window. Resolved `loginRate.*` settings. */
export interface AttemptRule {
  attempts: number;
  windowSeconds: number;
}

export interface LoginAttemptLimits {
  /** Attempts from one address, whatever the account. */
  perIp: AttemptRule;
  /** Attempts on one account, whatever the address; addresses it logged in from before may still try past it. */
  perAccount: AttemptRule;
}

/**
 * An address the account logged in from is remembered this long after its latest success (the
 * usual device or office of the real user), so strangers using up the account's attempts do
 * not lock its owner out there. Under 24.8 days: the in-memory counters expire keys with
 * setTimeout, whose delay cannot exceed 2^31 - 1 ms.
 */
const KNOWN_ADDRESS_SECONDS = 14 * 86_400;

export interface LoginAttempts {
  /** Counts an attempt from `ip`; throws too_many_requests once the address has used its window. */
  countFromAddress(ip: string): Promise<void>;
  /** Counts an attempt on the account; past its limit only known addresses are let through. */
  countOnAccount(username: string, ip: string): Promise<void>;
  /** Remembers `ip` as an address this account logged in from. */
  rememberAddress(username: string, ip: string): Promise<void>;
}

/** The account as the counters key it: hashed, so the counter store holds no usernames. */
function accountKey(username: string): string {
  return createHash("sha256").update(throttleUsername(username)).digest("base64url");
}

function tooManyAttempts(what: string, error: RateLimiterRes): AuthError {
  const retryAfter = retryAfterSeconds(error);
  const unit = retryAfter === 1 ? "second" : "seconds";
  return new AuthError("too_many_requests", `Too many login attempts ${what}. Try again in ${retryAfter} ${unit}.`, {
    retryAfter,
  });
}

/**
 * Counts every login attempt before its password is checked. Each count is one atomic
 * increment-and-compare in the counter store (a single upsert on PostgreSQL), so parallel
 * requests cannot all slip under a limit: past it, no password is hashed at all.
 * Failures are limited separately (login-throttle.ts); these limits bound the work an address
 * or an account can cause, right passwords included. Store errors propagate; the caller maps them.
 */
export function createLoginAttempts(limits: LoginAttemptLimits, backend: ThrottleBackend): LoginAttempts {
  const perIp = createCounterLimiter(backend, {
    keyPrefix: "gatehouse:login:attempts:ip",
    points: limits.perIp.attempts,
    durationSeconds: limits.perIp.windowSeconds,
  });
  const perAccount = createCounterLimiter(backend, {
    keyPrefix: "gatehouse:login:attempts:account",
    points: limits.perAccount.attempts,
    durationSeconds: limits.perAccount.windowSeconds,
  });
  const knownAddresses = createCounterLimiter(backend, {
    keyPrefix: "gatehouse:login:known-address",
    points: 1,
    durationSeconds: KNOWN_ADDRESS_SECONDS,
  });

  const refusing = async (what: string, count: () => Promise<unknown>): Promise<void> => {
    try {
      await count();
    } catch (error) {
      if (error instanceof RateLimiterRes) throw tooManyAttempts(what, error);
      throw error;
    }
  };

  return {
    countFromAddress: (ip) => refusing("from your address", () => perIp.consume(throttleIp(ip))),

    async countOnAccount(username, ip) {
      const key = accountKey(username);
      const known = await knownAddresses.get(accountAndIpKey(username, ip));
      // A known address still counts, so the limit sees all traffic, but is never refused here.
      if (known !== null && known.consumedPoints > 0) await perAccount.penalty(key);
      else await refusing("for this account", () => perAccount.consume(key));
    },

    async rememberAddress(username, ip) {
      // block() (re)sets the key with a fresh expiry: remembered for 14 days after the latest success.
      await knownAddresses.block(accountAndIpKey(username, ip), KNOWN_ADDRESS_SECONDS);
    },
  };
}
