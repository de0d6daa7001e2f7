import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { verify } from "@node-rs/argon2";
import { isAuthError } from "../../src/core/errors.ts";
import { createArgon2Pool } from "../../src/core/passwords/argon2-pool.ts";

const OPTIONS = { memoryCost: 19_456, timeCost: 2, parallelism: 1, algorithm: 2 } as const;

describe("argon2 pool", () => {
  it("hashes and verifies on its workers, interchangeably with @node-rs/argon2", async () => {
    const pool = createArgon2Pool(2);
    try {
      const hashes = await Promise.all(["one", "two", "three"].map((password) => pool.hash(password, OPTIONS)));
      assert.equal(await verify(hashes[1]!, "two"), true, "@node-rs/argon2 accepts the pool's hash");
      assert.equal(await pool.verify(hashes[2]!, "three"), true);
      assert.equal(await pool.verify(hashes[2]!, "two"), false);
      await assert.rejects(pool.verify("not a phc string", "three"), "a malformed hash rejects");
    } finally {
      await pool.close();
    }
  });

  it("hashes on @node-rs/argon2's thread pool when its worker cannot start (its file missing)", async () => {
    const pool = createArgon2Pool(1, new URL("./fixtures/no-such-argon2-worker.js", import.meta.url));
    try {
      const hash = await pool.hash("fallback", OPTIONS);
      assert.equal(await verify(hash, "fallback"), true);
      assert.equal(await pool.verify(hash, "fallback"), true);
    } finally {
      await pool.close();
    }
  });

  it("a worker that dies fails its jobs with `unavailable`; the next job starts a new one", async () => {
    const pool = createArgon2Pool(1, new URL("./fixtures/dying-argon2-worker.ts", import.meta.url));
    try {
      assert.equal(await pool.hash("first", OPTIONS), "$argon2id$fixed");
      await assert.rejects(pool.hash("second", OPTIONS), (error: unknown) => {
        assert.ok(isAuthError(error) && error.code === "unavailable", String(error));
        return true;
      });
      assert.equal(await pool.hash("third", OPTIONS), "$argon2id$fixed", "a new worker answered");
    } finally {
      await pool.close();
    }
  });
});
