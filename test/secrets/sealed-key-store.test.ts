import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createSecretBox, generateKeyEncryptionKey } from "../../src/core/crypto/secret-box.ts";
import { AuthError } from "../../src/core/errors.ts";
import { ManualClock } from "../../src/core/clock.ts";
import { generateSigningKeyRecord } from "../../src/core/keys/key-material.ts";
import { loadKeyRing, rotateSigningKeys, sealedSigningKeys } from "../../src/core/keys/key-ring.ts";
import { createMemoryKeyStore } from "../keys/memory-key-store.ts";

const unavailable = (pattern: RegExp) => (error: unknown) =>
  error instanceof AuthError && error.code === "unavailable" && pattern.test(error.message);

describe("signing keys sealed at rest", () => {
  const box = createSecretBox(generateKeyEncryptionKey());
  const options = { algorithm: "EdDSA" as const, clock: new ManualClock(), accessTokenTtlSeconds: 900 };

  it("stores every private key the ring and rotation create sealed, and the ring still signs", async () => {
    const raw = createMemoryKeyStore();
    const store = sealedSigningKeys(raw, box);
    const { ring } = await loadKeyRing(store, options);
    await rotateSigningKeys(store, { ...options, publishAheadSeconds: 0 });
    assert.equal(raw.records.size, 2);
    for (const record of raw.records.values()) {
      assert.match(record.privateJwk, /^ghenc1\./);
      assert.equal(record.privateJwk.includes('"d"'), false);
      const opened = JSON.parse(box.open(record.privateJwk, `signing_key:${record.kid}`)) as { d?: string };
      assert.equal(typeof opened.d, "string");
    }
    await ring.reload(store);
    assert.ok(ring.signingKey().privateKey);
  });

  it("refuses a private key moved to another key's row", async () => {
    const raw = createMemoryKeyStore();
    const store = sealedSigningKeys(raw, box);
    const [a, b] = [generateSigningKeyRecord("EdDSA", 0), generateSigningKeyRecord("EdDSA", 0)];
    await store.insertSigningKey(a);
    await store.insertSigningKey(b);
    raw.records.get(b.kid)!.privateJwk = raw.records.get(a.kid)!.privateJwk;
    await assert.rejects(
      store.listSigningKeys(),
      unavailable(new RegExp(`signing_key:${b.kid}.*fails authentication`)),
    );
  });

  it("refuses a private key stored in plain text", async () => {
    const raw = createMemoryKeyStore();
    await raw.insertSigningKey(generateSigningKeyRecord("EdDSA", 0));
    await assert.rejects(sealedSigningKeys(raw, box).listSigningKeys(), unavailable(/stored unencrypted/));
  });
});
