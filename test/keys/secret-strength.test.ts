import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { AuthError } from "../../src/core/errors.ts";
import { assertStrongSecret } from "../../src/core/keys/secret-strength.ts";

const SAMPLE =
  "09f26e402586e2faa8da4c98a35f1b20d6b033c6097befa8be3486a829587fe2f90a832bd3ff9d42710a4da095a2ce285b009f0c3730cd9b8e1af3eb84df6611";

function refused(secret: string, pattern: RegExp, what: string): void {
  assert.throws(
    () => assertStrongSecret(secret, "ACCESS_TOKEN_SECRET"),
    (error: unknown) => {
      assert.ok(error instanceof AuthError, what);
      assert.equal(error.code, "invalid_config", what);
      assert.match(error.message, /^ACCESS_TOKEN_SECRET /, `${what}: names the setting`);
      assert.match(error.message, /Generate one with: node -e .*randomBytes\(64\)/, `${what}: says how to fix it`);
      assert.match(error.message, pattern, what);
      if (secret.length > 0) assert.ok(!error.message.includes(secret), `${what}: never echoes the secret`);
      assert.equal(error.message.split(". ").length <= 3 && !error.message.includes("\n"), true, `${what}: one line`);
      return true;
    },
    what,
  );
}

describe("assertStrongSecret", () => {
  it("accepts random secrets in hex, base64 and base64url, and returns their UTF-8 bytes", () => {
    for (const secret of [randomBytes(64).toString("hex"), randomBytes(32).toString("hex"), randomBytes(32).toString("base64"), randomBytes(48).toString("base64url")]) {
      const key = assertStrongSecret(secret, "ACCESS_TOKEN_SECRET");
      assert.deepEqual(key, Buffer.from(secret, "utf8"), "the key is the string's bytes, as jsonwebtoken and jose use it");
    }
    assert.ok(assertStrongSecret("3f9a1c7e5b2d4f6081a3c5e7f9b1d3e5a7c9e1f3b5d7f9a1c3e5a7b9d1f3e5a7", "S").length > 0);
    assert.ok(assertStrongSecret("Tr0ub4dor&3-k9!Lq#xZ@7vW$pE2^mN8*bR5(hJ", "S").length > 0, "long mixed passphrase-like random text");
  });

  it("accepts 1000 freshly generated 32-byte secrets in each encoding (no false alarms)", () => {
    for (let i = 0; i < 1000; i++) {
      for (const encoding of ["hex", "base64", "base64url"] as const) assertStrongSecret(randomBytes(32).toString(encoding), "S");
    }
  });

  it("refuses too little key material", () => {
    refused("", /empty/, "empty");
    refused(randomBytes(31).toString("hex"), /too short: 31 bytes/, "31 bytes in hex");
    refused(randomBytes(16).toString("base64url"), /too short: 16 bytes/, "16 bytes in base64url");
    refused("k9!Lq#xZ@7vW$pE2^mN8", /too short/, "20 characters of text");
  });

  it("refuses placeholders and the seeds' published sample", () => {
    refused(SAMPLE, /published sample/, "seeds' sample");
    refused(SAMPLE.toUpperCase(), /published sample/, "seeds' sample, upper case");
    for (const placeholder of [
      "secret",
      "your-256-bit-secret-goes-here-please-0123456789",
      "changeme-changeme-changeme-changeme-1",
      "CHANGE_ME_9f8e7d6c5b4a39281706f5e4d3c2b1a0",
      "example-key-a8f5f167f44f4964e6c998dee827110c",
      "placeholder-0f1e2d3c4b5a69788796a5b4c3d2e1f0",
      "my-password-is-0f1e2d3c4b5a69788796a5b4c3d2e1f0",
      "xxxx-0f1e2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6",
      "replace-with-0f1e2d3c4b5a69788796a5b4c3d2e1f0",
    ]) {
      refused(placeholder, /placeholder/, placeholder);
    }
  });

  it("refuses words, low variety, runs, patterns, sequences and low entropy", () => {
    refused("correct horse battery staple correct horse", /words/, "a passphrase");
    refused("CorrectHorseBatteryStapleTroubadourElephant", /words/, "CamelCase words");
    refused("abracadabraabracadabraabracadabraab", /distinct|pattern|words/, "one word repeated");
    refused("a".repeat(64), /in a row/, "one character");
    refused("12".repeat(32), /distinct|pattern/, "two characters");
    refused("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", /pattern/, "a repeated hex sequence");
    refused("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", /consecutive/, "the alphabet");
    refused("aaaaaaabbbbbbbcccccccdddddddeeeeeeefffffffggggggg0", /distinct/, "skewed");
    refused("0102030405060708091011121314151617181920212223242526272829303132", /distinct/, "counting in decimal");
  });

  it("names whichever setting it is given", () => {
    assert.throws(() => assertStrongSecret("short", "REFRESH_SECRET"), /^AuthError: REFRESH_SECRET|REFRESH_SECRET/);
  });
});
