import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { resolveConfig } from "../../src/core/config.ts";
import { AuthError } from "../../src/core/errors.ts";
import { createLoginThrottle, type LoginThrottle, type ThrottleLimit } from "../../src/core/throttle/login-throttle.ts";

const roomy: ThrottleLimit = { attempts: 1_000, windowSeconds: 900, blockSeconds: 900 };

/** A throttle from loginThrottle options, resolved (defaults, ranges) the way createGatehouse does. */
function throttle(perAccountAndIp: Partial<ThrottleLimit>, perIp: Partial<ThrottleLimit> = {}): LoginThrottle {
  const { loginThrottle } = resolveConfig({
    loginThrottle: {
      perAccountAndIp: { attempts: 3, windowSeconds: 900, blockSeconds: 900, ...perAccountAndIp },
      perIp: { ...roomy, ...perIp },
    },
  });
  return createLoginThrottle(loginThrottle);
}

/** One login attempt that fails: check, then record the failure. */
async function fail(t: LoginThrottle, username: string, ip: string): Promise<void> {
  await t.check(username, ip);
  await t.recordFailure(username, ip);
}

async function refusal(promise: Promise<unknown>): Promise<AuthError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof AuthError, String(error));
    assert.equal(error.code, "too_many_requests");
    return error;
  }
  assert.fail("expected too_many_requests");
}

describe("login throttle", () => {
  it("exports OWASP-minded defaults: 10 per account+IP and 100 per IP, 15-minute windows and blocks", () => {
    assert.deepEqual(resolveConfig().loginThrottle, {
      perAccountAndIp: { attempts: 10, windowSeconds: 900, blockSeconds: 900 },
      perIp: { attempts: 100, windowSeconds: 900, blockSeconds: 900 },
    });
  });

  it("allows N failures and refuses attempt N+1 with retryAfter and a message saying when", async () => {
    const t = throttle({ attempts: 3 });
    for (let i = 0; i < 3; i++) await fail(t, "alice", "203.0.113.7");
    const error = await refusal(t.check("alice", "203.0.113.7"));
    assert.ok(
      error.retryAfter !== undefined && error.retryAfter > 0 && error.retryAfter <= 900,
      String(error.retryAfter),
    );
    assert.match(error.message, /^Too many failed logins\. Try again in \d+ seconds?\.$/);
    assert.ok(error.message.includes(String(error.retryAfter)));
  });

  it("blocks for blockSeconds once the limit is reached, not for the rest of the window", async () => {
    const t = throttle({ attempts: 2, windowSeconds: 3_600, blockSeconds: 60 });
    await fail(t, "alice", "203.0.113.7");
    await fail(t, "alice", "203.0.113.7");
    const error = await refusal(t.check("alice", "203.0.113.7"));
    assert.ok(
      error.retryAfter !== undefined && error.retryAfter > 50 && error.retryAfter <= 60,
      String(error.retryAfter),
    );
  });

  it("with blockSeconds 0, refuses until the window ends", async () => {
    const t = throttle({ attempts: 2, windowSeconds: 120, blockSeconds: 0 });
    await fail(t, "alice", "203.0.113.7");
    await fail(t, "alice", "203.0.113.7");
    const error = await refusal(t.check("alice", "203.0.113.7"));
    assert.ok(
      error.retryAfter !== undefined && error.retryAfter > 100 && error.retryAfter <= 120,
      String(error.retryAfter),
    );
  });

  it("does not lock the real user out from another address", async () => {
    const t = throttle({ attempts: 3 });
    for (let i = 0; i < 3; i++) await fail(t, "alice", "198.51.100.66");
    await refusal(t.check("alice", "198.51.100.66"));
    await t.check("alice", "203.0.113.7");
    await t.recordSuccess("alice", "203.0.113.7");
  });

  it("a success resets the account+IP counter", async () => {
    const t = throttle({ attempts: 3 });
    await fail(t, "alice", "203.0.113.7");
    await fail(t, "alice", "203.0.113.7");
    await t.check("alice", "203.0.113.7");
    await t.recordSuccess("alice", "203.0.113.7");
    for (let i = 0; i < 3; i++) await fail(t, "alice", "203.0.113.7");
    await refusal(t.check("alice", "203.0.113.7"));
  });

  it("case, width and spacing variants of a username share one counter", async () => {
    const t = throttle({ attempts: 4 });
    for (const variant of ["alice", "Alice", "ALICE", " Ａｌｉｃｅ "]) await fail(t, variant, "203.0.113.7");
    await refusal(t.check("aLiCe", "203.0.113.7"));
  });

  it("limits one address across many usernames (per-IP limit)", async () => {
    const t = throttle({ attempts: 100 }, { attempts: 5 });
    for (let i = 0; i < 5; i++) await fail(t, `user${i}`, "203.0.113.7");
    const error = await refusal(t.check("someone-new", "203.0.113.7"));
    assert.ok(error.retryAfter !== undefined && error.retryAfter > 0);
    await t.check("someone-new", "198.51.100.66");
  });

  it("a success does not wash out the per-IP counter", async () => {
    const t = throttle({ attempts: 100 }, { attempts: 5 });
    for (let i = 0; i < 4; i++) await fail(t, `user${i}`, "203.0.113.7");
    await t.check("mallory", "203.0.113.7");
    await t.recordSuccess("mallory", "203.0.113.7");
    await fail(t, "user9", "203.0.113.7");
    await refusal(t.check("user10", "203.0.113.7"));
  });

  it("counts IPv6 clients by /64 and IPv4-mapped addresses as IPv4", async () => {
    const t = throttle({ attempts: 100 }, { attempts: 2 });
    await fail(t, "a1", "2001:db8:1:2::1");
    await fail(t, "a2", "2001:DB8:1:2:ffff:ffff:ffff:9");
    await refusal(t.check("a3", "2001:db8:1:2::77"));
    await t.check("a3", "2001:db8:1:3::1");

    const u = throttle({ attempts: 2 });
    await fail(u, "alice", "::ffff:203.0.113.7");
    await fail(u, "alice", "203.0.113.7");
    await refusal(u.check("alice", "::FFFF:cb00:7107"));
  });

  it("a burst of parallel attempts cannot exceed the limit", async () => {
    const t = throttle({ attempts: 3 });
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => t.check("alice", "203.0.113.7")));
    const admitted = results.filter((r) => r.status === "fulfilled").length;
    assert.equal(admitted, 3);
    for (const r of results) {
      if (r.status === "rejected") assert.equal((r.reason as AuthError).code, "too_many_requests");
    }
    for (let i = 0; i < admitted; i++) await t.recordFailure("alice", "203.0.113.7");
    const error = await refusal(t.check("alice", "203.0.113.7"));
    assert.ok(
      error.retryAfter !== undefined && error.retryAfter > 800,
      "the real block applies once the attempts have failed",
    );
  });

  it("recording outcomes frees the slots that check() took", async () => {
    const t = throttle({ attempts: 2 });
    for (let i = 0; i < 10; i++) {
      await t.check("alice", "203.0.113.7");
      await t.recordSuccess("alice", "203.0.113.7");
    }
    // Outcomes recorded without a check() must not bank spare attempts either.
    for (let i = 0; i < 5; i++) await t.recordSuccess("alice", "203.0.113.7");
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => t.check("alice", "203.0.113.7")));
    assert.equal(results.filter((r) => r.status === "fulfilled").length, 2);
  });

  it("refuses invalid options at creation, naming the option", () => {
    const cases: [Partial<ThrottleLimit>, Partial<ThrottleLimit>, string][] = [
      [{ attempts: 0 }, {}, "loginThrottle.perAccountAndIp.attempts"],
      [{ windowSeconds: 1.5 }, {}, "loginThrottle.perAccountAndIp.windowSeconds"],
      [{}, { blockSeconds: -1 }, "loginThrottle.perIp.blockSeconds"],
      [{}, { attempts: Number.NaN }, "loginThrottle.perIp.attempts"],
    ];
    for (const [account, ip, name] of cases) {
      assert.throws(
        () => throttle(account, ip),
        (error: unknown) =>
          error instanceof AuthError && error.code === "invalid_config" && error.message.includes(`"${name}"`),
        name,
      );
    }
    assert.throws(
      () => createLoginThrottle({ ...resolveConfig().loginThrottle, backend: "redis" as "memory" }),
      (error: unknown) =>
        error instanceof AuthError && error.code === "invalid_config" && /backend/.test(error.message),
    );
  });
});
