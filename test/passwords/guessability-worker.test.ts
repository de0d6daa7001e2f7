import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { resolveConfig } from "../../src/core/config.ts";
import { isAuthError } from "../../src/core/errors.ts";
import { createGuessabilityChecker } from "../../src/core/passwords/guessability-checker.ts";
import { createPasswordPolicy } from "../../src/core/passwords/password-policy.ts";
import { buildEstimator, estimateGuesses } from "../../src/core/passwords/password-guessability.ts";
import { loopTurnsDuring } from "../helpers/event-loop.ts";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

const heapAfterGc = () => {
  gc();
  return process.memoryUsage().heapUsed;
};

/** 64 characters of keyboard walks and words: among the costliest texts zxcvbn scores. */
const COSTLY = (n: number) => `qwertyuiop${n}asdfghjkl;correcthorsebatterystaple1q2w3e4r5t6y7u8i9o0p`.slice(0, 64);

describe("password guessability on a worker thread", () => {
  it("gives the same estimate as zxcvbn on this thread", async () => {
    const checker = createGuessabilityChecker();
    try {
      for (const text of ["correct horse battery staple", "summer2023summer", "Tr0ub4dor&3", COSTLY(1)]) {
        const [there, here] = [await checker.estimate(text, ["alice"]), estimateGuesses(text, ["alice"])];
        assert.deepEqual(there, here, text);
      }
    } finally {
      await checker.close();
    }
  });

  it("keeps the event loop turning and the dictionaries out of this thread's heap", async () => {
    const checker = createGuessabilityChecker();
    try {
      const before = heapAfterGc();
      await checker.estimate("warm up: the worker builds its dictionaries", []);
      const turns = await loopTurnsDuring(() =>
        Promise.all(Array.from({ length: 20 }, (_, n) => checker.estimate(COSTLY(n), []))),
      );
      assert.ok(turns >= 100, `the event loop turned only ${turns} times during 20 estimates`);
      const grown = heapAfterGc() - before;
      // On this thread zxcvbn's dictionaries take about 24 MB (the control below).
      assert.ok(grown < 5 * 1024 * 1024, `this thread's heap grew by ${(grown / 1048576).toFixed(1)} MB`);
    } finally {
      await checker.close();
    }
  });

  it("the password policy judges guessability off the event loop", async () => {
    const policy = createPasswordPolicy(resolveConfig().password);
    await policy.check("warm up the worker with a long enough phrase", { username: "alice" });
    const turns = await loopTurnsDuring(() =>
      Promise.all(
        Array.from({ length: 20 }, (_, n) =>
          policy.check(COSTLY(n), { username: "alice" }).catch((error: unknown) => error),
        ),
      ),
    );
    assert.ok(turns >= 100, `the event loop turned only ${turns} times during 20 policy checks`);
  });

  it("control: the same measurements catch zxcvbn run on this thread", async () => {
    const turns = await loopTurnsDuring(async () => {
      for (let n = 0; n < 20; n++) estimateGuesses(COSTLY(n));
    });
    assert.equal(turns, 0);
    const before = heapAfterGc();
    const estimator = buildEstimator();
    const grown = heapAfterGc() - before;
    assert.ok(estimator.check("kept alive until here", []).guessesLog10 > 0);
    assert.ok(grown > 10 * 1024 * 1024, `the dictionaries took only ${(grown / 1048576).toFixed(1)} MB`);
  });

  it("judges on this thread when the worker cannot start (its file missing, as in a bundle)", async () => {
    const checker = createGuessabilityChecker({ entry: new URL("./fixtures/no-such-worker.js", import.meta.url) });
    try {
      const estimates = await Promise.all([checker.estimate("password123", []), checker.estimate(COSTLY(0), [])]);
      assert.deepEqual(estimates[0], estimateGuesses("password123"));
      assert.deepEqual(estimates[1], estimateGuesses(COSTLY(0)));
    } finally {
      await checker.close();
    }
  });

  it("a worker that dies fails the waiting estimates with `unavailable`; the next estimate starts a new one", async () => {
    const checker = createGuessabilityChecker({
      entry: new URL("./fixtures/dying-guessability-worker.ts", import.meta.url),
    });
    try {
      assert.equal((await checker.estimate("first", [])).guessesLog10, 12);
      await assert.rejects(checker.estimate("second", []), (error: unknown) => {
        assert.ok(isAuthError(error) && error.code === "unavailable", String(error));
        return true;
      });
      assert.equal((await checker.estimate("third", [])).guessesLog10, 12, "a new worker answered");
    } finally {
      await checker.close();
    }
  });

  it("stops an idle worker, giving its memory back; the next estimate starts a new one", async () => {
    const checker = createGuessabilityChecker({ idleMs: 50 });
    try {
      const first = await checker.estimate("correct horse battery staple", []);
      assert.equal(checker.running, true);
      for (let waited = 0; checker.running && waited < 10_000; waited += 25) {
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      assert.equal(checker.running, false, "the idle worker stopped");
      assert.deepEqual(await checker.estimate("correct horse battery staple", []), first);
      assert.equal(checker.running, true);
    } finally {
      await checker.close();
    }
  });
});
