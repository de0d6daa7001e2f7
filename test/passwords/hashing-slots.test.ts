import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type GatehouseOptions, resolveConfig } from "../../src/core/config.ts";
import { AuthError } from "../../src/core/errors.ts";
import { createArgon2Hasher } from "../../src/core/passwords/argon2-hasher.ts";
import { createHashingSlots } from "../../src/core/passwords/hashing-slots.ts";

const deferred = () => {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
};

/** Slots from argon2 options, resolved (defaults, ranges) the way createGatehouse does. */
const slotsWith = (argon2: NonNullable<GatehouseOptions["argon2"]>) =>
  createHashingSlots(resolveConfig({ argon2 }).argon2);

describe("hashing slots", () => {
  it("never runs more than maxConcurrent at once, and runs every queued job", async () => {
    const slots = slotsWith({ maxConcurrent: 2 });
    let active = 0;
    let peak = 0;
    const jobs = Array.from({ length: 10 }, (_, i) =>
      slots.run(async () => {
        active++;
        peak = Math.max(peak, active);
        await new Promise((resolve) => setTimeout(resolve, 5));
        active--;
        return i;
      }),
    );
    assert.deepEqual(await Promise.all(jobs), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.equal(peak, 2);
    assert.equal(slots.running, 0);
    assert.equal(slots.queued, 0);
  });

  it("answers too_many_requests with Retry-After when the queue is full, and frees slots after failures", async () => {
    const slots = createHashingSlots({ maxConcurrent: 1, maxQueued: 1, maxPerAddress: 2 });
    const gate = deferred();
    const first = slots.run(() => gate.promise);
    const second = slots.run(async () => "second");
    await assert.rejects(
      slots.run(async () => "third"),
      (error: unknown) => error instanceof AuthError && error.code === "too_many_requests" && error.retryAfter === 1,
    );
    gate.resolve();
    await first;
    assert.equal(await second, "second");
    await assert.rejects(
      slots.run(async () => Promise.reject(new Error("boom"))),
      /boom/,
    );
    assert.equal(await slots.run(async () => "after failure"), "after failure");
    assert.equal(slots.running, 0);
  });

  it("refuses nonsense settings, naming the option", () => {
    assert.throws(() => slotsWith({ maxConcurrent: 0 }), /argon2\.maxConcurrent/);
    assert.throws(() => slotsWith({ maxQueued: -1 }), /argon2\.maxQueued/);
  });

  it("the argon2 hasher goes through its slots: with one slot, parallel hashes still all succeed", async () => {
    const argon2 = resolveConfig({ argon2: { maxConcurrent: 1 } }).argon2;
    const hasher = createArgon2Hasher(argon2, argon2);
    const hashes = await Promise.all(Array.from({ length: 4 }, (_, i) => hasher.hash(`password number ${i} is long`)));
    for (const [i, phc] of hashes.entries())
      assert.equal(await hasher.verify(phc, `password number ${i} is long`), true);
  });
});
