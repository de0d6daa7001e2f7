import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AuthError } from "../../src/core/errors.ts";
import { createHashingSlots } from "../../src/core/passwords/hashing-slots.ts";

/** Work that finishes only when the test says so. */
function gate(): { work: () => Promise<string>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  const work = async () => {
    await opened;
    return "done";
  };
  return { work, open };
}

const isBusy = (error: unknown) => {
  assert.ok(error instanceof AuthError);
  assert.equal(error.code, "too_many_requests");
  assert.equal(error.retryAfter, 1);
  return true;
};

describe("hashing slots per client address", () => {
  it("an address past its share is refused at once; other addresses still queue; the share frees up", async () => {
    const slots = createHashingSlots({ maxConcurrent: 1, maxQueued: 10, maxPerAddress: 2 });
    const [a1, a2, b1] = [gate(), gate(), gate()];
    const first = slots.run(a1.work, "198.51.100.1");
    const second = slots.run(a2.work, "198.51.100.1");
    await assert.rejects(slots.run(gate().work, "198.51.100.1"), isBusy);
    const other = slots.run(b1.work, "198.51.100.2");
    assert.equal(slots.running, 1);
    assert.equal(slots.queued, 2);
    a1.open();
    assert.equal(await first, "done");
    // One place of the address is free again: a new request of it may wait in line.
    const third = slots.run(async () => "third", "198.51.100.1");
    a2.open();
    b1.open();
    assert.deepEqual(await Promise.all([second, other, third]), ["done", "done", "third"]);
    assert.equal(slots.started, 4);
    assert.equal(slots.running, 0);
  });

  it("a failing hash gives its place back", async () => {
    const slots = createHashingSlots({ maxConcurrent: 1, maxQueued: 10, maxPerAddress: 1 });
    await assert.rejects(
      slots.run(async () => {
        throw new Error("native failure");
      }, "198.51.100.3"),
      /native failure/,
    );
    assert.equal(await slots.run(async () => "again", "198.51.100.3"), "again");
  });

  it("a full queue refuses everyone, whatever their share", async () => {
    const slots = createHashingSlots({ maxConcurrent: 1, maxQueued: 0, maxPerAddress: 5 });
    const held = gate();
    const running = slots.run(held.work, "198.51.100.4");
    await assert.rejects(slots.run(gate().work, "198.51.100.5"), isBusy);
    held.open();
    await running;
    assert.equal(slots.started, 1, "a refused request starts no hash");
  });
});
