import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type LimitsServer, startLimitsServer } from "./servers.ts";

/**
 * Judging a password's strength costs 10–20 ms of the event loop (zxcvbn over up to 64
 * characters). Before it, the per-address registration limit: weak-password sign-ups count, so
 * one address cannot make the server judge passwords without end.
 */
describe("registration: the per-address limit comes before the strength check", () => {
  let server: LimitsServer;
  before(async () => {
    server = await startLimitsServer("sqlite", { registrationsPerIpPerHour: 3, registrationOpen: true });
  });
  after(() => server.close());

  it("answers 429 to a weak password once the address has used its registrations", async () => {
    const weak = "password1234567890";
    for (let n = 0; n < 3; n++) {
      const response = await server.register(`weak-${n}`, "203.0.113.7", weak);
      assert.equal(response.status, 400, `attempt ${n}: the weak password is refused`);
    }
    const fourth = await server.register("weak-3", "203.0.113.7", weak);
    assert.equal(fourth.status, 429, "the fourth attempt is not judged at all");
    assert.ok(fourth.headers.get("retry-after"), "Retry-After says when to try again");

    const elsewhere = await server.register("strong-1", "203.0.113.8");
    assert.equal(elsewhere.status, 201, "another address is not affected");
  });
});
