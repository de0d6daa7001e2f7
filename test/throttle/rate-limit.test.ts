import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AuthError } from "../../src/core/errors.ts";
import { createRateLimit } from "../../src/core/throttle/rate-limit.ts";

describe("generic rate limit", () => {
  it("allows `points` per key per window and then refuses with retryAfter", async () => {
    const limit = createRateLimit({ points: 3, durationSeconds: 3_600 });
    for (let i = 0; i < 3; i++) await limit.consume("203.0.113.7");
    await assert.rejects(limit.consume("203.0.113.7"), (error: unknown) => {
      assert.ok(error instanceof AuthError);
      assert.equal(error.code, "too_many_requests");
      assert.ok(
        error.retryAfter !== undefined && error.retryAfter > 3_500 && error.retryAfter <= 3_600,
        String(error.retryAfter),
      );
      assert.match(error.message, /^Too many requests\. Try again in \d+ seconds?\.$/);
      return true;
    });
  });

  it("keeps keys apart", async () => {
    const limit = createRateLimit({ points: 1, durationSeconds: 60 });
    await limit.consume("a");
    await assert.rejects(limit.consume("a"), (e: unknown) => e instanceof AuthError && e.code === "too_many_requests");
    await limit.consume("b");
  });
});
