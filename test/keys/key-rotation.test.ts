import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { ManualClock } from "../../src/core/clock.ts";
import { AuthError } from "../../src/core/errors.ts";
import { KeyRing, loadKeyRing, rotateSigningKeys } from "../../src/core/keys/key-ring.ts";
import { createAccessTokenSigner } from "../../src/core/tokens/access-token-signer.ts";
import { createAccessTokenVerifier } from "../../src/core/tokens/access-token-verifier.ts";
import type { StoreOps } from "../../src/core/store/store.ts";
import { keyStoreKinds, type OpenedKeyStore, recordOf } from "./key-stores.ts";

const TTL = 900;
const HOUR = 3_600_000;

const opened: OpenedKeyStore[] = [];
afterEach(async () => {
  for (const handle of opened.splice(0)) await handle.close();
});

async function started(open: () => Promise<OpenedKeyStore>) {
  const handle = await open();
  opened.push(handle);
  const store: StoreOps = handle.store;
  const clock = new ManualClock();
  const { ring } = await loadKeyRing(store, { algorithm: "EdDSA", clock, accessTokenTtlSeconds: TTL });
  const sign = createAccessTokenSigner({ ring, issuer: "iss", audience: "aud", ttlSeconds: TTL, clock });
  const verify = createAccessTokenVerifier({
    resolveKey: (kid) => ring.resolve(kid),
    issuer: "iss",
    audience: "aud",
    clock,
    cache: false,
  });
  const kidOf = (token: string) => JSON.parse(Buffer.from(token.split(".")[0]!, "base64url").toString()).kid as string;
  return { store, clock, ring, sign, verify, kidOf, oldKid: ring.signingKey().kid };
}

for (const kind of await keyStoreKinds())
  describe(`rotateSigningKeys (${kind.name} store)`, () => {
    it("publishes the next key before it signs, switches at activation, keeps the old key until its last token expired", async () => {
      const { store, clock, ring, sign, verify, kidOf, oldKid } = await started(kind.open);
      const rotatedAt = clock.now();
      const newKid = await rotateSigningKeys(store, {
        algorithm: "EdDSA",
        clock,
        accessTokenTtlSeconds: TTL,
        publishAheadSeconds: 3600,
      });
      await ring.reload(store);

      const fresh = await recordOf(store, newKid);
      assert.equal(fresh.activatesAt, rotatedAt + HOUR, "default publish-ahead is one hour");
      const old = await recordOf(store, oldKid);
      assert.equal(old.retiredAt, fresh.activatesAt, "old key retires when the new one activates");
      assert.equal(old.expiresAt, fresh.activatesAt + TTL * 1000 + 60_000, "and leaves after its last token + skew");

      // Published now, not signing yet.
      assert.deepEqual(
        ring
          .jwks()
          .keys.map((k) => k.kid)
          .sort(),
        [oldKid, newKid].sort(),
      );
      assert.equal(kidOf(sign({ sub: "u", sid: "s" }).token), oldKid);

      // Just before activation: still the old key; the last old token is issued here.
      clock.set(fresh.activatesAt - 1);
      const lastOldToken = sign({ sub: "u", sid: "s" }).token;
      assert.equal(kidOf(lastOldToken), oldKid);

      // At activation: the new key signs; the old key still verifies and is still published.
      clock.set(fresh.activatesAt);
      const newToken = sign({ sub: "u", sid: "s" }).token;
      assert.equal(kidOf(newToken), newKid);
      assert.equal(verify(newToken).sub, "u");
      assert.equal(verify(lastOldToken).sub, "u");
      assert.ok(ring.jwks().keys.some((k) => k.kid === oldKid));

      // The old key outlives the last token it signed, including that token's skew window.
      const lastValidMoment =
        JSON.parse(Buffer.from(lastOldToken.split(".")[1]!, "base64url").toString()).exp * 1000 + 60_000 - 1;
      assert.ok(lastValidMoment < old.expiresAt!);
      clock.set(lastValidMoment);
      assert.equal(verify(lastOldToken).sub, "u", "the last old token verifies until its own end");
      clock.set(old.expiresAt! - 1);
      assert.ok(
        ring.jwks().keys.some((k) => k.kid === oldKid),
        "still published one ms before expiresAt",
      );
      clock.set(old.expiresAt!);
      assert.deepEqual(
        ring.jwks().keys.map((k) => k.kid),
        [newKid],
      );
      assert.equal(ring.resolve(oldKid), undefined);
      const later = sign({ sub: "u", sid: "s" }).token;
      assert.equal(kidOf(later), newKid);
      assert.equal(verify(later).sub, "u");

      // A fresh start after expiry loads only the new key and creates nothing.
      const reloaded = await loadKeyRing(store, { algorithm: "EdDSA", clock, accessTokenTtlSeconds: TTL });
      assert.deepEqual(reloaded.created, []);
      assert.equal(reloaded.ring.signingKey().kid, newKid);
    });

    it("an instance that has not reloaded keeps verifying: new tokens arrive only after the publish-ahead window", async () => {
      const { store, clock } = await started(kind.open);
      const other = KeyRing.fromRecords(await store.listSigningKeys(), clock);
      const newKid = await rotateSigningKeys(store, {
        algorithm: "EdDSA",
        clock,
        accessTokenTtlSeconds: TTL,
        publishAheadSeconds: 300,
      });
      assert.equal(other.resolve(newKid), undefined);
      clock.advance(60_000); // the other instance's periodic reload
      await other.reload(store);
      assert.ok(other.resolve(newKid), "known four minutes before the first token it signs");
    });

    it("rotating twice retires the pending key at the newer key's activation", async () => {
      const { store, clock, ring } = await started(kind.open);
      const second = await rotateSigningKeys(store, {
        algorithm: "EdDSA",
        clock,
        accessTokenTtlSeconds: TTL,
        publishAheadSeconds: 600,
      });
      clock.advance(60_000);
      const third = await rotateSigningKeys(store, {
        algorithm: "ES256",
        clock,
        accessTokenTtlSeconds: TTL,
        publishAheadSeconds: 1200,
      });
      await ring.reload(store);
      const thirdRecord = await recordOf(store, third);
      assert.equal((await recordOf(store, second)).retiredAt, thirdRecord.activatesAt);
      clock.set((await recordOf(store, second)).activatesAt);
      assert.equal(ring.signingKey().kid, second);
      clock.set(thirdRecord.activatesAt);
      assert.equal(ring.signingKey().kid, third);
      assert.equal(ring.signingKey().alg, "ES256");
    });

    it("publishAheadSeconds 0 switches at once; bad options are refused", async () => {
      const { store, clock, ring } = await started(kind.open);
      const kid = await rotateSigningKeys(store, {
        algorithm: "EdDSA",
        clock,
        accessTokenTtlSeconds: TTL,
        publishAheadSeconds: 0,
      });
      await ring.reload(store);
      assert.equal(ring.signingKey().kid, kid);
      for (const bad of [{ publishAheadSeconds: -1 }, { accessTokenTtlSeconds: 0 }, { algorithm: "HS256" }]) {
        await assert.rejects(
          rotateSigningKeys(store, { algorithm: "EdDSA", clock, accessTokenTtlSeconds: TTL, ...bad } as never),
          (e: unknown) => e instanceof AuthError && e.code === "invalid_config",
        );
      }
    });
  });
