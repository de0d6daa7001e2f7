import assert from "node:assert/strict";
import { createHmac, randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { createHmacSha256 } from "../../src/core/tokens/hmac-sha256.ts";

describe("createHmacSha256", () => {
  it("matches node's createHmac for keys shorter than, equal to and longer than the block", () => {
    for (const keyLength of [1, 16, 32, 63, 64, 65, 128, 300]) {
      const secret = randomBytes(keyLength);
      const hmac = createHmacSha256(secret);
      for (const messageLength of [0, 1, 55, 56, 63, 64, 65, 330, 1023, 1024, 1025, 5000, 70_000]) {
        const message = randomBytes(messageLength).toString("base64url").slice(0, messageLength);
        assert.deepEqual(
          hmac(message),
          createHmac("sha256", secret).update(message, "latin1").digest(),
          `key ${keyLength}, message ${messageLength}`,
        );
      }
    }
  });

  it("RFC 4231 test case 2", () => {
    const mac = createHmacSha256(Buffer.from("Jefe"))("what do ya want for nothing?");
    assert.equal(mac.toString("hex"), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  });

  it("results do not alias each other (scratch buffers are internal)", () => {
    const hmac = createHmacSha256(randomBytes(32));
    const a = hmac("first");
    const copy = Buffer.from(a);
    hmac("second");
    assert.deepEqual(a, copy);
  });
});
