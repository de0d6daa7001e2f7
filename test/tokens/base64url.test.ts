import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { decodeBase64url, encodeBase64url, isStrictBase64url } from "../../src/core/tokens/base64url.ts";

describe("strict base64url", () => {
  it("round-trips random bytes of every length mod 3", () => {
    for (let length = 1; length < 70; length++) {
      const bytes = randomBytes(length);
      const text = encodeBase64url(bytes);
      assert.ok(isStrictBase64url(text), text);
      assert.deepEqual(decodeBase64url(text), bytes);
    }
    assert.equal(encodeBase64url("héllo"), Buffer.from("héllo").toString("base64url"));
  });

  it("rejects padding, the standard alphabet, whitespace, non-ASCII, empty and impossible lengths", () => {
    for (const bad of [
      "",
      "QQ==",
      "QQ=",
      "a+b/",
      "ab/c",
      "QU Jj",
      " QUJj",
      "QUJj\n",
      "QUJjé",
      "A",
      "QUJjR",
      "\u0000AAA",
    ]) {
      assert.equal(isStrictBase64url(bad), false, JSON.stringify(bad));
      assert.equal(decodeBase64url(bad), undefined, JSON.stringify(bad));
    }
  });

  it("rejects non-canonical trailing bits, so each byte string has one spelling", () => {
    assert.equal(isStrictBase64url("QQ"), true); // "A"
    assert.equal(isStrictBase64url("QR"), false); // also decodes to "A" in lenient decoders
    assert.equal(isStrictBase64url("QUI"), true); // "AB"
    assert.equal(isStrictBase64url("QUJ"), false);
  });

  it("checks a range of a larger string without copying", () => {
    assert.equal(isStrictBase64url("xx.QUJj.yy", 3, 7), true);
    assert.equal(isStrictBase64url("xx.QUJj.yy", 2, 7), false);
  });
});
