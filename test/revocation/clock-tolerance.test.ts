import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ManualClock } from "../../src/core/clock.ts";
import { createGatehouse } from "../../src/gatehouse.ts";
import { createLogger } from "../../src/logging/logger.ts";
import { randomPassword } from "./instances.ts";

/** The clock tolerance is a setting (at most 60 s): how long past `exp` a token still verifies. */
describe("clockToleranceSeconds", () => {
  const caller = { ip: "203.0.113.1", userAgent: "tolerance-test" };

  for (const tolerance of [0, 30]) {
    it(`${tolerance} s: a token verifies until exp + ${tolerance} s and not a millisecond longer`, async () => {
      const clock = new ManualClock(Date.UTC(2031, 0, 1));
      const auth = await createGatehouse({
        database: "sqlite::memory:",
        clock,
        clockToleranceSeconds: tolerance,
        logger: createLogger({ level: "silent" }),
      });
      try {
        const password = randomPassword();
        await auth.service.register("timekeeper", password, caller);
        const { accessToken } = await auth.service.login("timekeeper", password, caller);
        const exp = auth.verifyAccessToken(accessToken).exp * 1000;
        clock.set(exp + tolerance * 1000 - 1);
        assert.equal(auth.verifyAccessToken(accessToken).sub.length > 0, true);
        clock.set(exp + tolerance * 1000);
        assert.throws(() => auth.verifyAccessToken(accessToken), /expired/);
      } finally {
        await auth.close();
      }
    });
  }

  it("more than 60 s is refused at creation, naming the option", async () => {
    await assert.rejects(
      createGatehouse({
        database: "sqlite::memory:",
        clockToleranceSeconds: 61,
        logger: createLogger({ level: "silent" }),
      }),
      /clockToleranceSeconds/,
    );
  });
});
