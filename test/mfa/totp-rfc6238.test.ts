import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Secret, TOTP } from "otpauth";
import { generateTotpSecret, matchTotpStep, totpCode, totpStep, totpUri } from "../../src/core/mfa/totp.ts";

// RFC 6238 Appendix B: the SHA-1 rows use the 20-byte ASCII seed "12345678901234567890" and 8 digits.
const SEED = Secret.fromLatin1("12345678901234567890");
const VECTORS: Array<[seconds: number, code: string]> = [
  [59, "94287082"],
  [1111111109, "07081804"],
  [1111111111, "14050471"],
  [1234567890, "89005924"],
  [2000000000, "69279037"],
  [20000000000, "65353130"],
];

describe("TOTP (RFC 6238)", () => {
  it("otpauth reproduces the Appendix B SHA-1 vectors at each injected time", () => {
    const totp = new TOTP({ algorithm: "SHA1", digits: 8, period: 30, secret: SEED });
    for (const [seconds, code] of VECTORS) {
      assert.equal(totp.generate({ timestamp: seconds * 1000 }), code, `T = ${seconds}`);
      assert.equal(totp.validate({ token: code, timestamp: seconds * 1000, window: 0 }), 0);
    }
  });

  it("our 6-digit codes are the last 6 digits of the RFC's 8-digit ones (same HOTP value)", () => {
    const secret = SEED.base32;
    for (const [seconds, code] of VECTORS) assert.equal(totpCode(secret, seconds * 1000), code.slice(2));
  });

  it("accepts a code one step early or late, names its step, and refuses two steps away", () => {
    const secret = SEED.base32;
    const now = 1111111111 * 1000;
    const step = totpStep(now);
    assert.equal(matchTotpStep(secret, totpCode(secret, now), now), step);
    assert.equal(matchTotpStep(secret, totpCode(secret, now - 30_000), now), step - 1);
    assert.equal(matchTotpStep(secret, totpCode(secret, now + 30_000), now), step + 1);
    assert.equal(matchTotpStep(secret, totpCode(secret, now - 60_000), now), null);
    assert.equal(matchTotpStep(secret, totpCode(secret, now + 60_000), now), null);
  });

  it("refuses malformed codes without throwing, and tolerates a space in the middle", () => {
    const secret = SEED.base32;
    const now = 59_000;
    const code = totpCode(secret, now);
    assert.equal(matchTotpStep(secret, `${code.slice(0, 3)} ${code.slice(3)}`, now), totpStep(now));
    for (const bad of ["", "12345", "1234567", "abcdef", "١٢٣٤٥٦", "12345\u0000", `${code}0`]) {
      assert.equal(matchTotpStep(secret, bad, now), null, JSON.stringify(bad));
    }
  });

  it("makes 160-bit secrets and an otpauth URI with SHA1, 6 digits, 30 s", () => {
    const secret = generateTotpSecret();
    assert.equal(Secret.fromBase32(secret).bytes.length, 20);
    assert.notEqual(generateTotpSecret(), secret);
    const uri = new URL(totpUri(secret, "Gatehouse", "alice"));
    assert.equal(uri.protocol, "otpauth:");
    assert.equal(uri.searchParams.get("secret"), secret);
    assert.equal(uri.searchParams.get("algorithm"), "SHA1");
    assert.equal(uri.searchParams.get("digits"), "6");
    assert.equal(uri.searchParams.get("period"), "30");
    assert.equal(uri.searchParams.get("issuer"), "Gatehouse");
  });
});
