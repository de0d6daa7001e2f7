import assert from "node:assert/strict";
import { createPublicKey, sign, verify } from "node:crypto";
import { afterEach, describe, it, mock } from "node:test";
import { ManualClock } from "../../src/core/clock.ts";
import { AuthError } from "../../src/core/errors.ts";
import { generateSigningKeyRecord, jwkThumbprint } from "../../src/core/keys/key-material.ts";
import { KeyRing, keepKeyRingFresh, loadKeyRing, rotateSigningKeys } from "../../src/core/keys/key-ring.ts";
import type { StoreOps } from "../../src/core/store/store.ts";
import { keyStoreKinds, type OpenedKeyStore, recordOf } from "./key-stores.ts";

const TTL = 900;
const options = (clock: ManualClock, algorithm: "EdDSA" | "ES256" = "EdDSA") => ({
  algorithm,
  clock,
  accessTokenTtlSeconds: TTL,
});

for (const kind of await keyStoreKinds()) {
  describe(`loadKeyRing (${kind.name} store)`, () => {
    const opened: OpenedKeyStore[] = [];
    const open = async (): Promise<StoreOps> => {
      const handle = await kind.open();
      opened.push(handle);
      return handle.store;
    };
    afterEach(async () => {
      for (const handle of opened.splice(0)) await handle.close();
    });

    it("generates a key on first start, then reloads the same kid from the store", async () => {
      const store = await open();
      const clock = new ManualClock();
      const first = await loadKeyRing(store, options(clock));
      const kid = first.ring.signingKey().kid;
      assert.deepEqual(first.created, [`created EdDSA signing key kid=${kid}`]);
      assert.equal((await store.listSigningKeys()).length, 1);
      const stored = await recordOf(store, kid);
      assert.equal(stored.alg, "EdDSA");
      assert.equal(stored.activatesAt, stored.createdAt, "signs from creation on first start");
      assert.equal(stored.retiredAt, null);
      assert.equal(stored.expiresAt, null);
      assert.equal(kid, jwkThumbprint(JSON.parse(stored.publicJwk)), "kid is the RFC 7638 thumbprint");

      clock.advance(3_600_000);
      const second = await loadKeyRing(store, options(clock));
      assert.deepEqual(second.created, [], "nothing generated on the second start");
      assert.equal(second.ring.signingKey().kid, kid);
      assert.equal((await store.listSigningKeys()).length, 1);

      // The key in the store really is the one that signs.
      const signature = sign(null, Buffer.from("data"), second.ring.signingKey().privateKey);
      assert.ok(
        verify(
          null,
          Buffer.from("data"),
          createPublicKey({ key: JSON.parse(stored.publicJwk), format: "jwk" }),
          signature,
        ),
      );
    });

    it("ES256 keys are P-256 with x and y, kid = thumbprint", async () => {
      const { ring } = await loadKeyRing(await open(), options(new ManualClock(), "ES256"));
      const [jwk] = ring.jwks().keys;
      assert.deepEqual(Object.keys(jwk!).sort(), ["alg", "crv", "kid", "kty", "use", "x", "y"]);
      assert.equal(jwk!.crv, "P-256");
      assert.equal(jwk!.alg, "ES256");
      assert.equal(jwk!.kid, jwkThumbprint(jwk!));
      assert.equal(ring.signingKey().alg, "ES256");
    });

    it("JWKS carries only public members plus kid, alg and use, never d", async () => {
      const store = await open();
      const { ring } = await loadKeyRing(store, options(new ManualClock()));
      const jwks = ring.jwks();
      assert.equal(jwks.keys.length, 1);
      const [jwk] = jwks.keys;
      assert.deepEqual(Object.keys(jwk!).sort(), ["alg", "crv", "kid", "kty", "use", "x"]);
      assert.deepEqual(
        { kty: jwk!.kty, crv: jwk!.crv, alg: jwk!.alg, use: jwk!.use },
        { kty: "OKP", crv: "Ed25519", alg: "EdDSA", use: "sig" },
      );
      assert.ok(!JSON.stringify(jwks).includes('"d"'));
      const privateD = JSON.parse((await store.listSigningKeys())[0]!.privateJwk).d as string;
      assert.ok(!JSON.stringify(jwks).includes(privateD), "the private scalar appears nowhere");
      jwk!.x = "tampered";
      assert.notEqual(ring.jwks().keys[0]!.x, "tampered", "callers get copies");
    });

    it("HS256 mode: one key from the secret, nothing stored, nothing published", async () => {
      const store = await open();
      const secret = Buffer.from("3f9a1c7e5b2d4f6081a3c5e7f9b1d3e5a7c9e1f3b5d7f9a1c3e5a7b9d1f3e5a7");
      const { ring, created } = await loadKeyRing(store, { ...options(new ManualClock()), hmacSecret: secret });
      assert.deepEqual(created, []);
      assert.equal((await store.listSigningKeys()).length, 0);
      assert.deepEqual(ring.jwks(), { keys: [] });
      const key = ring.signingKey();
      assert.equal(key.alg, "HS256");
      assert.ok(!key.kid.includes(secret.toString("utf8").slice(0, 8)));
      assert.equal(ring.resolve(key.kid)?.alg, "HS256");
      assert.equal(ring.isHmac, true);
    });

    it("instances starting at once on one store sign with the same key", async () => {
      for (let round = 0; round < 5; round++) {
        const store = await open();
        const clock = new ManualClock();
        const results = await Promise.all([
          loadKeyRing(store, options(clock)),
          loadKeyRing(store, options(clock)),
          loadKeyRing(store, options(clock)),
        ]);
        const kids = new Set(results.map(({ ring }) => ring.signingKey().kid));
        assert.equal(kids.size, 1, "one signing key for everyone");
        assert.equal(results.flatMap(({ created }) => created).length, 1, "exactly one instance announces a new key");
        const [kid] = kids;
        for (const { ring } of results) {
          assert.deepEqual(
            ring.jwks().keys.map((k) => k.kid),
            [kid],
            "losing candidates never reach the JWKS",
          );
        }
        const later = await loadKeyRing(store, options(clock));
        assert.equal(later.ring.signingKey().kid, kid);
        assert.deepEqual(later.created, []);
      }
    });

    it("a winner that stopped before releasing its key is released by the next instance", async () => {
      const store = await open();
      const clock = new ManualClock();
      // An instance stored its held-back candidate and won the election, then died.
      const orphan = generateSigningKeyRecord("EdDSA", clock.now());
      await store.insertSigningKey({ ...orphan, retiredAt: orphan.activatesAt });
      await store.putSettingIfAbsent("signing_key_election:EdDSA:none", orphan.kid);
      const { ring } = await loadKeyRing(store, options(clock));
      assert.equal(ring.signingKey().kid, orphan.kid);
      assert.equal((await recordOf(store, orphan.kid)).retiredAt, null);
    });

    it("a changed algorithm creates a key of it and keeps the old one verifiable until its tokens expire", async () => {
      const store = await open();
      const clock = new ManualClock();
      const ed = await loadKeyRing(store, options(clock, "EdDSA"));
      const oldKid = ed.ring.signingKey().kid;
      clock.advance(60_000);
      const es = await loadKeyRing(store, options(clock, "ES256"));
      const newKey = es.ring.signingKey();
      assert.equal(newKey.alg, "ES256");
      assert.equal(es.created.length, 2);
      assert.match(es.created[1]!, /retired EdDSA signing key/);
      assert.ok(es.ring.resolve(oldKid), "old tokens still verify");
      assert.equal((await recordOf(store, oldKid)).expiresAt, clock.now() + TTL * 1000 + 60_000);
      clock.advance(TTL * 1000 + 60_000);
      assert.equal(es.ring.resolve(oldKid), undefined, "gone once its last token expired");
      assert.deepEqual(
        es.ring.jwks().keys.map((k) => k.kid),
        [newKey.kid],
      );
    });

    it("reload picks up keys other instances added", async () => {
      const store = await open();
      const clock = new ManualClock();
      const a = await loadKeyRing(store, options(clock));
      const next = await rotateSigningKeys(store, { ...options(clock), publishAheadSeconds: 600 });
      assert.equal(a.ring.resolve(next), undefined, "not known before reload");
      await a.ring.reload(store);
      assert.ok(a.ring.resolve(next));
    });

    it("keepKeyRingFresh reloads on its interval until stopped", async () => {
      const store = await open();
      const clock = new ManualClock();
      const { ring } = await loadKeyRing(store, options(clock));
      mock.timers.enable({ apis: ["setInterval"] });
      try {
        const stop = keepKeyRingFresh(ring, store, { intervalMs: 60_000 });
        const next = await rotateSigningKeys(store, { ...options(clock), publishAheadSeconds: 600 });
        mock.timers.tick(59_999);
        await new Promise((resolve) => setTimeout(resolve, 20));
        assert.equal(ring.resolve(next), undefined, "not before the interval");
        mock.timers.tick(1);
        await new Promise((resolve) => setTimeout(resolve, 20));
        assert.ok(ring.resolve(next), "known after one interval");
        stop();
        const another = await rotateSigningKeys(store, { ...options(clock), publishAheadSeconds: 600 });
        mock.timers.tick(120_000);
        await new Promise((resolve) => setTimeout(resolve, 20));
        assert.equal(ring.resolve(another), undefined, "no reloads after stop()");
      } finally {
        mock.timers.reset();
      }
      assert.throws(
        () => keepKeyRingFresh(ring, store, { intervalMs: 10 }),
        (e: unknown) => e instanceof AuthError && e.code === "invalid_config",
      );
    });

    it("refuses invalid options", async () => {
      const clock = new ManualClock();
      const store = await open();
      await assert.rejects(
        loadKeyRing(store, { ...options(clock), algorithm: "RS256" as never }),
        (e: unknown) => e instanceof AuthError && e.code === "invalid_config",
      );
      await assert.rejects(
        loadKeyRing(store, { ...options(clock), accessTokenTtlSeconds: 0 }),
        (e: unknown) => e instanceof AuthError && e.code === "invalid_config",
      );
    });
  });
}

describe("KeyRing.fromRecords", () => {
  it("skips unusable stored keys instead of trusting them", () => {
    const clock = new ManualClock();
    const good = generateSigningKeyRecord("EdDSA", 0);
    const es = generateSigningKeyRecord("ES256", 0);
    const ring = KeyRing.fromRecords(
      [
        {
          kid: "broken",
          alg: "EdDSA",
          privateJwk: "{}",
          publicJwk: "{}",
          createdAt: 0,
          activatesAt: 0,
          retiredAt: null,
          expiresAt: null,
        },
        { ...es, kid: "es-key-labelled-eddsa", alg: "EdDSA" },
        { ...good, kid: "unknown-alg", alg: "RS256" },
      ],
      clock,
    );
    for (const kid of ["broken", "es-key-labelled-eddsa", "unknown-alg"])
      assert.equal(ring.resolve(kid), undefined, kid);
    assert.throws(
      () => ring.signingKey(),
      (e: unknown) => e instanceof AuthError && e.code === "internal_error",
    );
    assert.deepEqual(ring.jwks(), { keys: [] });
  });
});
