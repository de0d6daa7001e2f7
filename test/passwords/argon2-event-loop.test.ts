import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { hashSync } from "@node-rs/argon2";
import { createArgon2Hasher, DEFAULT_ARGON2_PARAMS } from "../../src/core/passwords/argon2-hasher.ts";

/**
 * Runs `work` while sampling event-loop delay. A structural check, not a speed target:
 * hashing off the loop leaves the longest stall far below the total hashing time; hashing
 * on the loop makes them about equal.
 */
async function measure(work: () => Promise<unknown>): Promise<{ totalMs: number; maxDelayMs: number; ticks: number }> {
  const histogram = monitorEventLoopDelay({ resolution: 2 });
  let ticks = 0;
  const interval = setInterval(() => ticks++, 2);
  histogram.enable();
  const start = performance.now();
  await work();
  const totalMs = performance.now() - start;
  // Let the timers observe the end of any stall before reading them.
  await new Promise((resolve) => setTimeout(resolve, 10));
  histogram.disable();
  clearInterval(interval);
  return { totalMs, maxDelayMs: histogram.max / 1e6, ticks };
}

describe("argon2 hashing and the event loop", () => {
  it("8 concurrent hashes run on the thread pool: the event loop keeps ticking", async () => {
    const hasher = createArgon2Hasher();
    await hasher.hash("warm up the native module"); // first call loads and initialises it
    const { totalMs, maxDelayMs, ticks } = await measure(() => Promise.all(Array.from({ length: 8 }, (_, i) => hasher.hash(`password number ${i}`))));
    assert.ok(maxDelayMs < totalMs / 2, `longest event-loop stall ${maxDelayMs.toFixed(1)} ms vs ${totalMs.toFixed(1)} ms of hashing`);
    assert.ok(ticks >= 5, `interval ticked ${ticks} times during ${totalMs.toFixed(1)} ms of hashing`);
  });

  it("control: the same measurement flags hashing that blocks the loop", async () => {
    const options = { ...DEFAULT_ARGON2_PARAMS, algorithm: 2 as const };
    const { totalMs, maxDelayMs } = await measure(async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      for (let i = 0; i < 8; i++) hashSync(`password number ${i}`, options);
    });
    assert.ok(maxDelayMs > totalMs / 2, `blocking hashes stalled the loop ${maxDelayMs.toFixed(1)} ms of ${totalMs.toFixed(1)} ms`);
  });
});
