import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { keyStates } from "../../src/cli/commands/keys.ts";
import { ManualClock } from "../../src/core/clock.ts";
import { generateSigningKeyRecord } from "../../src/core/keys/key-material.ts";
import { KeyRing, loadKeyRing, rotateSigningKeys } from "../../src/core/keys/key-ring.ts";
import {
  canSign,
  chooseSigningKey,
  type KeySchedule,
  signingRecordAt,
} from "../../src/core/keys/signing-key-choice.ts";
import type { SigningKeyRecord } from "../../src/core/store/store.ts";
import { createMemoryKeyStore } from "./memory-key-store.ts";

const T0 = Date.UTC(2030, 0, 1);
const HOUR = 3_600_000;

const schedule = (kid: string, times: Partial<KeySchedule> = {}): KeySchedule => ({
  kid,
  createdAt: T0,
  activatesAt: T0,
  retiredAt: null,
  expiresAt: null,
  ...times,
});

describe("chooseSigningKey: the one rule for which key signs", () => {
  it("a key signs from activatesAt (inclusive) until retiredAt or expiresAt (exclusive)", () => {
    const key = schedule("a", { activatesAt: T0 + 10, retiredAt: T0 + 20, expiresAt: T0 + 30 });
    assert.deepEqual(
      [T0 + 9, T0 + 10, T0 + 19, T0 + 20, T0 + 30].map((now) => canSign(key, now)),
      [false, true, true, false, false],
    );
    assert.equal(canSign(schedule("b", { expiresAt: T0 + 5 }), T0 + 5), false, "expiry alone ends signing");
  });

  it("the newest activated key wins; ties go to the newest created, then the smaller kid", () => {
    const old = schedule("old");
    const newer = schedule("newer", { activatesAt: T0 + HOUR });
    assert.equal(chooseSigningKey([old, newer], T0 + HOUR - 1)?.kid, "old", "a key published ahead waits");
    assert.equal(chooseSigningKey([old, newer], T0 + HOUR)?.kid, "newer", "and takes over at activation");
    assert.equal(chooseSigningKey([newer, old], T0 + HOUR)?.kid, "newer", "whatever the input order");

    const createdLater = schedule("z", { createdAt: T0 + 1 });
    assert.equal(chooseSigningKey([old, createdLater], T0)?.kid, "z");
    assert.equal(chooseSigningKey([schedule("b"), schedule("a")], T0)?.kid, "a");
  });

  it("a retired or expired newer key hands signing back to the older one; none left is undefined", () => {
    const old = schedule("old");
    const retired = schedule("retired", { activatesAt: T0 + 1, retiredAt: T0 + 2 });
    assert.equal(chooseSigningKey([old, retired], T0 + 1)?.kid, "retired");
    assert.equal(chooseSigningKey([old, retired], T0 + 2)?.kid, "old");
    assert.equal(chooseSigningKey([schedule("gone", { retiredAt: T0 })], T0), undefined);
    assert.equal(chooseSigningKey([], T0), undefined);
  });

  it("signingRecordAt applies the same rule to stored records of the algorithms Gatehouse signs with", () => {
    const eddsa = generateSigningKeyRecord("EdDSA", T0);
    const unknown: SigningKeyRecord = { ...generateSigningKeyRecord("ES256", T0), alg: "RS256", activatesAt: T0 + 1 };
    assert.equal(signingRecordAt([eddsa, unknown], T0 + 1)?.kid, eddsa.kid);
  });
});

describe("ring, CLI and start-up all follow chooseSigningKey along a rotation, with an injected clock", () => {
  it("at every instant around each change, the ring signs with the key the CLI calls active", async () => {
    const clock = new ManualClock(T0);
    const store = createMemoryKeyStore();
    const ttlSeconds = 900;
    const options = { algorithm: "EdDSA" as const, clock, accessTokenTtlSeconds: ttlSeconds };
    const first = (await loadKeyRing(store, options)).ring.signingKey().kid;

    clock.advance(HOUR);
    const second = await rotateSigningKeys(store, { ...options, publishAheadSeconds: 600 });
    clock.advance(60_000);
    const third = await rotateSigningKeys(store, { ...options, publishAheadSeconds: 1800 });
    const records = await store.listSigningKeys();
    const ring = KeyRing.fromRecords(records, clock);

    const changes = records.flatMap((r) => [r.activatesAt, r.retiredAt, r.expiresAt]).filter((t) => t !== null);
    const instants = [...new Set(changes.flatMap((t) => [t - 1, t, t + 1]))].sort((a, b) => a - b);
    const seen = new Set<string>();
    for (const now of instants) {
      clock.set(now);
      const chosen = chooseSigningKey(records, now);
      const active = [...keyStates(records, now)].filter(([, state]) => state === "active").map(([kid]) => kid);
      assert.deepEqual(active, chosen === undefined ? [] : [chosen.kid], `CLI at ${now - T0} ms`);
      if (chosen === undefined) {
        assert.throws(() => ring.signingKey(), { code: "internal_error" });
        continue;
      }
      assert.equal(ring.signingKey().kid, chosen.kid, `ring at ${now - T0} ms`);
      seen.add(chosen.kid);
      // Start-up at this instant finds a signing key of the configured algorithm and creates none.
      const before = store.records.size;
      const loaded = await loadKeyRing(store, options);
      assert.deepEqual(loaded.created, [], `start-up at ${now - T0} ms`);
      assert.equal(store.records.size, before);
      assert.equal(loaded.ring.signingKey().kid, chosen.kid);
    }
    assert.deepEqual([...seen], [first, second, third], "each key signed in turn");
  });
});
