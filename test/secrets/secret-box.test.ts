import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { formatKeyEncryptionKey, parseKeyEncryptionKey } from "../../src/core/crypto/key-encryption-key.ts";
import {
  createSecretBox,
  generateKeyEncryptionKey,
  isSealed,
  keyIdOf,
  sealedKeyId,
} from "../../src/core/crypto/secret-box.ts";
import { AuthError } from "../../src/core/errors.ts";

const isCode = (code: string, pattern?: RegExp) => (error: unknown) => {
  assert.ok(error instanceof AuthError, String(error));
  assert.equal(error.code, code);
  if (pattern) assert.match(error.message, pattern);
  return true;
};

/** Replaces one character of a base64url segment by another valid one. */
function flipCharacter(text: string, index: number): string {
  const replacement = text[index] === "A" ? "B" : "A";
  return text.slice(0, index) + replacement + text.slice(index + 1);
}

describe("SecretBox", () => {
  const key = generateKeyEncryptionKey();
  const box = createSecretBox(key);

  it("opens what it sealed, under the same context, whatever the text", () => {
    for (const text of ["", "x", '{"kty":"OKP","d":"secret"}', "ünïcødé ✓ \u0000 nul", "a".repeat(10_000)]) {
      assert.equal(box.open(box.seal(text, "signing_key:k1"), "signing_key:k1"), text);
    }
  });

  it("writes ghenc1.<keyId>.<96-bit iv>.<ciphertext+tag>, with a fresh IV each time", () => {
    const first = box.seal("same text", "ctx");
    const second = box.seal("same text", "ctx");
    assert.notEqual(first, second);
    const [version, keyId, iv, body] = first.split(".");
    assert.equal(version, "ghenc1");
    assert.equal(keyId, box.keyId);
    assert.equal(keyId, keyIdOf(key));
    assert.equal(Buffer.from(iv!, "base64url").length, 12);
    assert.equal(Buffer.from(body!, "base64url").length, "same text".length + 16);
    assert.equal(isSealed(first), true);
    assert.equal(sealedKeyId(first), box.keyId);
    assert.equal(first.includes("same text"), false);
  });

  it("refuses another context: a value copied into another row does not open", () => {
    const sealed = box.seal("private key of k1", "signing_key:k1");
    assert.throws(
      () => box.open(sealed, "signing_key:k2"),
      isCode("unavailable", /signing_key:k2.*KEY_ENCRYPTION_KEY/),
    );
  });

  it("refuses any change to the IV, the ciphertext or the tag", () => {
    const sealed = box.seal("the rotation key", "setting:refresh_rotation_key");
    const parts = sealed.split(".");
    for (const [part, index] of [
      [2, 0],
      [3, 0],
      [3, parts[3]!.length - 2],
    ] as const) {
      const changed = [...parts];
      changed[part] = flipCharacter(changed[part]!, index);
      assert.throws(() => box.open(changed.join("."), "setting:refresh_rotation_key"), isCode("unavailable"));
    }
    assert.throws(() => box.open(`${sealed}x`, "setting:refresh_rotation_key"), isCode("unavailable"));
    assert.throws(() => box.open(sealed.replace("ghenc1", "ghenc2"), "x"), isCode("unavailable"));
  });

  it("names both key ids and KEY_ENCRYPTION_KEY when a value was sealed with another key", () => {
    const other = createSecretBox(generateKeyEncryptionKey());
    const sealed = other.seal("text", "ctx");
    assert.throws(
      () => box.open(sealed, "ctx"),
      isCode("unavailable", new RegExp(`${other.keyId}.*KEY_ENCRYPTION_KEY.*${box.keyId}`)),
    );
  });

  it("refuses plain text where a sealed value belongs", () => {
    assert.throws(() => box.open('{"d":"plain"}', "ctx"), isCode("unavailable", /not in the sealed format/));
    assert.equal(isSealed('{"d":"plain"}'), false);
    assert.equal(sealedKeyId("abc"), undefined);
  });

  it("takes only 32-byte keys, and keeps its own copy of the key", () => {
    assert.throws(() => createSecretBox(randomBytes(16)), isCode("invalid_config"));
    const mutable = generateKeyEncryptionKey();
    const own = createSecretBox(mutable);
    const sealed = own.seal("text", "ctx");
    mutable.fill(0);
    assert.equal(own.open(sealed, "ctx"), "text");
  });

  it("gives different keys different ids, and the id reveals nothing of the key", () => {
    const ids = new Set(Array.from({ length: 50 }, () => createSecretBox(generateKeyEncryptionKey()).keyId));
    assert.equal(ids.size, 50);
    assert.match(box.keyId, /^[A-Za-z0-9_-]{11}$/);
    assert.equal(key.toString("base64url").includes(box.keyId), false);
  });
});

describe("KEY_ENCRYPTION_KEY values", () => {
  const key = generateKeyEncryptionKey();

  it("accepts 32 bytes as hex, base64 (padded or not) and base64url, with surrounding whitespace", () => {
    for (const text of [
      key.toString("hex"),
      key.toString("hex").toUpperCase(),
      key.toString("base64"),
      key.toString("base64").replace(/=$/, ""),
      key.toString("base64url"),
      `  ${key.toString("hex")}\n`,
      formatKeyEncryptionKey(key),
    ]) {
      assert.deepEqual(parseKeyEncryptionKey(text, "KEY_ENCRYPTION_KEY"), key, text);
    }
  });

  it("refuses other lengths, other spellings and non-random keys, naming the source and never echoing it", () => {
    const refused = [
      "",
      randomBytes(16).toString("hex"),
      randomBytes(64).toString("hex"),
      randomBytes(31).toString("base64"),
      `${key.toString("hex").slice(0, 63)}g`,
      `${key.toString("base64url").slice(0, 42)}B`, // trailing bits set: a second spelling of another key
      "0".repeat(64),
      "ab".repeat(32),
      "correct horse battery staple correct horse battery",
    ];
    for (const text of refused) {
      assert.throws(
        () => parseKeyEncryptionKey(text, "KEY_ENCRYPTION_KEY"),
        (error: unknown) => {
          isCode("invalid_config", /^KEY_ENCRYPTION_KEY .*randomBytes\(32\)/)(error);
          if (text.length > 0) assert.equal((error as Error).message.includes(text), false);
          return true;
        },
        text,
      );
    }
  });
});
