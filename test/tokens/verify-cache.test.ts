import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AuthError } from "../../src/core/errors.ts";
import type { VerificationKey } from "../../src/core/keys/key-ring.ts";
import { createAccessTokenVerifier } from "../../src/core/tokens/access-token-verifier.ts";
import { AUDIENCE, ISSUER, setup } from "./token-fixtures.ts";

/**
 * A cached verifier whose key can be withdrawn (as a key removed from the ring). A hit returns
 * the very claims object the first verification made; a fresh verification makes a new one.
 */
function cachedSetup(maxEntries: number) {
  const base = setup("EdDSA");
  let keysAvailable = true;
  const verify = createAccessTokenVerifier({
    resolveKey: (kid): VerificationKey | undefined => (keysAvailable ? base.ring.resolve(kid) : undefined),
    issuer: ISSUER,
    audience: AUDIENCE,
    clock: base.clock,
    cache: { maxEntries },
  });
  const withdrawKeys = () => {
    keysAvailable = false;
  };
  const restoreKeys = () => {
    keysAvailable = true;
  };
  return { ...base, verify, withdrawKeys, restoreKeys };
}

const isInvalidToken = (error: unknown) => error instanceof AuthError && error.code === "invalid_token";

describe("verify cache", () => {
  it("a hit returns the same (frozen) claims without verifying again", () => {
    const { verify, sign } = cachedSetup(10);
    const { token } = sign({ sub: "u", sid: "s" });
    const first = verify(token);
    assert.equal(verify(token), first, "same object from the cache");
    assert.ok(Object.isFrozen(first));
    assert.throws(() => {
      (first as { sub: string }).sub = "admin";
    }, TypeError);
  });

  it("a cached token is rejected once the clock passes exp + tolerance, and stays rejected", () => {
    const { verify, sign, clock } = cachedSetup(10);
    const { token, claims } = sign({ sub: "u", sid: "s" });
    verify(token);
    clock.set(claims.exp * 1000 + 60_000 - 1);
    assert.equal(verify(token).sub, "u", "still inside the tolerance");
    clock.advance(1);
    assert.throws(() => verify(token), /expired/);
    assert.throws(() => verify(token), /expired/, "the expired entry was dropped, and fresh verification also refuses");
  });

  it("only verified tokens are cached: a failure is not remembered either way", () => {
    const { verify, sign, withdrawKeys, restoreKeys } = cachedSetup(10);
    const { token } = sign({ sub: "u", sid: "s" });
    withdrawKeys();
    assert.throws(() => verify(token), isInvalidToken);
    restoreKeys();
    assert.equal(verify(token).sub, "u", "no negative caching");
    const forged = `${token.slice(0, -2)}${token.endsWith("AA") ? "BA" : "AA"}`; // never the token itself
    assert.throws(() => verify(forged), isInvalidToken);
    assert.throws(() => verify(forged), isInvalidToken, "a bad token never becomes a hit");
  });

  it("is bounded: never more than maxEntries, oldest evicted first", () => {
    const max = 5;
    const { verify, sign } = cachedSetup(max);
    const tokens = Array.from({ length: 12 }, (_, i) => sign({ sub: `u${i}`, sid: "s" }).token);
    const claims = tokens.map((token) => verify(token));
    // Probe newest first: a probe that misses is cached again and would evict an older entry.
    const hits = tokens
      .map((_, i) => i)
      .reverse()
      .filter((i) => verify(tokens[i]!) === claims[i]);
    assert.deepEqual(hits.reverse(), [7, 8, 9, 10, 11], "exactly the newest maxEntries tokens are hits");
  });

  it("a key removed from the ring stops its tokens at once, cached ones included", () => {
    const { verify, sign, withdrawKeys, restoreKeys } = cachedSetup(10);
    const { token } = sign({ sub: "u", sid: "s" });
    verify(token);
    withdrawKeys();
    assert.throws(() => verify(token), /unknown or expired key/);
    restoreKeys();
    assert.equal(verify(token).sub, "u");
  });

  it("cache: false verifies every time", () => {
    const base = setup("EdDSA");
    let keysAvailable = true;
    const verify = createAccessTokenVerifier({
      resolveKey: (kid) => (keysAvailable ? base.ring.resolve(kid) : undefined),
      issuer: ISSUER,
      audience: AUDIENCE,
      clock: base.clock,
      cache: false,
    });
    const { token } = base.sign({ sub: "u", sid: "s" });
    verify(token);
    keysAvailable = false;
    assert.throws(() => verify(token), isInvalidToken);
  });
});
