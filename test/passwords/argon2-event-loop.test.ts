import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { hashSync } from "@node-rs/argon2";
import { resolveConfig } from "../../src/core/config.ts";
import { createArgon2Hasher } from "../../src/core/passwords/argon2-hasher.ts";
import { loopTurnsDuring } from "../helpers/event-loop.ts";

describe("argon2 hashing and the event loop", () => {
  it("8 concurrent hashes run off the event loop (hashing threads): it keeps turning", async () => {
    const { argon2 } = resolveConfig();
    const hasher = createArgon2Hasher(argon2, argon2);
    await hasher.hash("warm up the native module"); // first call loads and initialises it
    const turns = await loopTurnsDuring(() =>
      Promise.all(Array.from({ length: 8 }, (_, i) => hasher.hash(`password number ${i}`))),
    );
    assert.ok(turns >= 100, `the event loop turned only ${turns} times while 8 hashes were computed`);
  });

  it("control: the same measurement flags hashing that blocks the loop", async () => {
    const { memoryCost, timeCost, parallelism } = resolveConfig().argon2;
    const options = { memoryCost, timeCost, parallelism, algorithm: 2 as const };
    const turns = await loopTurnsDuring(async () => {
      for (let i = 0; i < 8; i++) hashSync(`password number ${i}`, options);
    });
    assert.equal(turns, 0, "blocking hashes let the event loop turn");
  });
});
