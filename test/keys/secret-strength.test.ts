import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { AuthError } from "../../src/core/errors.ts";
import { assertStrongSecret } from "../../src/core/keys/secret-strength.ts";

const SAMPLE =
  "09f26e402586e2faa8da4c98a35f1b20d6b033c6097befa8be3486a829587fe2" +
  "f90a832bd3ff9d42710a4da095a2ce285b009f0c3730cd9b8e1af3eb84df6611";

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
      if (secret.length >= 16) assert.ok(!error.message.includes(secret.slice(0, 12)), `${what}: nor a piece of it`);
      assert.equal(error.message.split(". ").length <= 3 && !error.message.includes("\n"), true, `${what}: one line`);
      return true;
    },
    what,
  );
}

describe("assertStrongSecret", () => {
  it("accepts random secrets in hex, base64 and base64url, and returns their UTF-8 bytes", () => {
    const secrets = [
      randomBytes(64).toString("hex"),
      randomBytes(32).toString("hex"),
      randomBytes(32).toString("hex").toUpperCase(),
      randomBytes(32).toString("base64"),
      randomBytes(48).toString("base64url"),
      randomBytes(64).toString("base64"),
    ];
    for (const secret of secrets) {
      const key = assertStrongSecret(secret, "ACCESS_TOKEN_SECRET");
      assert.deepEqual(key, Buffer.from(secret, "utf8"), "the key is the string's UTF-8 bytes");
    }
    assert.ok(assertStrongSecret("3f9a1c7e5b2d4f6081a3c5e7f9b1d3e5a7c9e1f3b5d7f9a1c3e5a7b9d1f3e5a7", "S").length > 0);
  });

  it("accepts what `gatehouse secret` prints", () => {
    const cli = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));
    const args = ["--import", import.meta.resolve("tsx"), cli, "secret"];
    const run = spawnSync(process.execPath, args, { encoding: "utf8" });
    assert.equal(run.status, 0, run.stderr);
    const printed = run.stdout.trim();
    assert.match(printed, /^[0-9a-f]{128}$/);
    assert.ok(assertStrongSecret(printed, "ACCESS_TOKEN_SECRET").length > 0);
  });

  it("accepts freshly generated 32-byte secrets in each encoding (no false alarms)", () => {
    for (let i = 0; i < 1000; i++) assertStrongSecret(randomBytes(32).toString("hex"), "S");
    // The base64 forms are also scored for words and keyboard patterns, which costs more per secret.
    for (let i = 0; i < 40; i++) {
      for (const encoding of ["base64", "base64url"] as const) {
        assertStrongSecret(randomBytes(32).toString(encoding), "S");
      }
    }
  });

  it("refuses anything that is not hex or base64", () => {
    refused("Tr0ub4dor&3-k9!Lq#xZ@7vW$pE2^mN8*bR5(hJ", /hex or base64/, "random-looking text with symbols");
    refused("correct horse battery staple correct horse", /hex or base64/, "a passphrase with spaces");
    refused("k9!Lq#xZ@7vW$pE2^mN8", /hex or base64/, "20 characters of text");
    refused(`${randomBytes(32).toString("hex")}g`, /hex or base64/, "hex with a stray letter and odd length");
  });

  it("refuses too little key material", () => {
    refused("", /empty/, "empty");
    refused(randomBytes(31).toString("hex"), /too short: 31 bytes/, "31 bytes in hex");
    refused(randomBytes(16).toString("base64url"), /too short: 16 bytes/, "16 bytes in base64url");
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

  it("refuses runs, low variety, patterns and sequences", () => {
    refused("a".repeat(64), /in a row/, "one character");
    refused("12".repeat(32), /distinct|pattern/, "two characters");
    refused("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", /pattern/, "a repeated hex sequence");
    refused("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", /consecutive/, "the alphabet");
    refused("aaaaaaabbbbbbbcccccccdddddddeeeeeeefffffffggggggg0", /distinct/, "skewed");
    refused("0102030405060708091011121314151617181920212223242526272829303132", /distinct/, "counting in decimal");
  });

  it("refuses words and keyboard walks written in the base64 alphabet", () => {
    const humanMade = [
      "correct-horse-battery-staple-troubadour-elephant",
      "CorrectHorseBatteryStapleTroubadourElephant2024",
      "Correct4Horse7Battery2Staple9Troubadour1Elephant",
      "PurpleMonkeyDishwasherEatsBlueberryPancakes2024",
      "Mysuperlongjwtsigningkey-thatnobodywillguess-42",
      "qwertyuiopasdfghjklzxcvbnm1234567890QWERTYUIOPASDFGHJKL",
      "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p1qaz2wsx3edc4rfv",
      "zaq1xsw2cde3vfr4bgt5nhy6mju7ki8lo9p0zaq1xsw2cde3vfr4",
    ];
    for (const secret of humanMade) refused(secret, /words or keyboard patterns/, secret);
  });

  it("refuses text dressed up as hex or base64, and hex patterns", () => {
    const sentence = "my very own signing key for our jwt tokens, 2024!";
    refused(Buffer.from(sentence).toString("hex"), /encodes text/, "hex of a sentence");
    refused(Buffer.from(sentence).toString("base64"), /encodes text/, "base64 of a sentence");
    refused(Buffer.from(sentence).toString("base64url"), /encodes text/, "base64url of a sentence");
    refused("8f3a6c1e9b2d4f7058e1a3c6b9d2f4e7".repeat(2), /repeats bytes/, "a 16-byte key written twice");
    const hexspeak = "deadbeefdeadbeefcafebabecafebabe0123456789abcdef0123456789abcdef";
    refused(hexspeak, /consecutive|repeats|distinct/, "hexspeak");
    refused("00000000000000010000000000000002000000000000000300000000000000040", /hex or base64|in a row/, "counters");
  });

  it("names whichever setting it is given", () => {
    assert.throws(() => assertStrongSecret("short", "REFRESH_SECRET"), /REFRESH_SECRET/);
  });
});
