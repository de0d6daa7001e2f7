import assert from "node:assert/strict";
import { createHmac, generateKeyPairSync } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { ManualClock } from "../../src/core/clock.ts";
import { AuthError } from "../../src/core/errors.ts";
import { KeyRing } from "../../src/core/keys/key-ring.ts";
import { generateSigningKeyRecord } from "../../src/core/keys/key-material.ts";
import { createRemoteKeySet, createRemoteVerifier } from "../../src/core/keys/remote-key-set.ts";
import { createAccessTokenSigner } from "../../src/core/tokens/access-token-signer.ts";

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

/** A tiny JWKS server: answers with `body()` (or `status`) and counts requests. */
class JwksServer {
  server: Server | undefined;
  url = "";
  hits = 0;
  status = 200;
  hang = false;
  body: () => unknown = () => ({ keys: [] });

  async start(): Promise<void> {
    this.server = createServer((_req, res) => {
      this.hits++;
      if (this.hang) return; // never answers
      res.statusCode = this.status;
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify(this.body()));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}/.well-known/jwks.json`;
  }

  async stop(): Promise<void> {
    this.server!.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }
}

describe("remote key set and verifier", () => {
  const jwks = new JwksServer();
  const canary = new JwksServer();
  before(async () => {
    await jwks.start();
    await canary.start();
  });
  after(async () => {
    await jwks.stop();
    await canary.stop();
  });

  /** An issuer (ring + signer) whose JWKS the server serves, and a remote verifier for it. */
  function issuer(options: { cooldownMs?: number; maxAgeMs?: number; algorithm?: "EdDSA" | "ES256" } = {}) {
    const clock = new ManualClock();
    let ring = KeyRing.fromRecords([generateSigningKeyRecord(options.algorithm ?? "EdDSA", clock.now())], clock);
    jwks.body = () => ring.jwks();
    jwks.status = 200;
    jwks.hang = false;
    jwks.hits = 0;
    canary.hits = 0;
    const signer = () =>
      createAccessTokenSigner({ ring, issuer: "https://auth.test", audience: "api", ttlSeconds: 900, clock });
    let sign = signer();
    const remote = createRemoteVerifier({
      jwksUrl: jwks.url,
      issuer: "https://auth.test",
      audience: "api",
      clock,
      cache: false,
      ...(options.cooldownMs === undefined ? {} : { cooldownMs: options.cooldownMs }),
      ...(options.maxAgeMs === undefined ? {} : { maxAgeMs: options.maxAgeMs }),
    });
    return {
      clock,
      remote,
      token: () => sign({ sub: "u", sid: "s" }).token,
      ring: () => ring,
      /** The issuer switches to a brand-new key (as after a rotation). */
      newKey: () => {
        ring = KeyRing.fromRecords([generateSigningKeyRecord("EdDSA", clock.now())], clock);
        sign = signer();
      },
    };
  }

  it("verifies EdDSA and ES256 tokens with keys fetched once", async () => {
    for (const algorithm of ["EdDSA", "ES256"] as const) {
      const { remote, token } = issuer({ algorithm });
      assert.equal((await remote.verify(token())).sub, "u");
      assert.equal((await remote.verify(token())).sub, "u");
      assert.equal(jwks.hits, 1, `${algorithm}: one fetch`);
    }
  });

  it("an unknown kid refreshes the set (once per cooldown) and then verifies", async () => {
    const { remote, token, newKey, clock } = issuer({ cooldownMs: 30_000 });
    await remote.keySet.ready();
    clock.advance(31_000);
    newKey();
    assert.equal((await remote.verify(token())).sub, "u", "rotated key found after one refresh");
    assert.equal(jwks.hits, 2);
  });

  it("a flood of unknown kids causes at most one fetch per cooldown", async () => {
    const { remote, clock } = issuer({ cooldownMs: 30_000 });
    await remote.keySet.ready();
    clock.advance(30_000);
    const attacker = generateKeyPairSync("ed25519").privateKey;
    const { sign } = await import("node:crypto");
    const forged = (kid: string) => {
      const data = `${b64({ alg: "EdDSA", typ: "at+jwt", kid })}.${b64({ iss: "https://auth.test", aud: "api", sub: "u", sid: "s", iat: 1, exp: 9e9, jti: "j" })}`;
      return `${data}.${sign(null, Buffer.from(data), attacker).toString("base64url")}`;
    };
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) => remote.verify(forged(`random-${i}`))),
    );
    assert.ok(results.every((r) => r.status === "rejected" && (r.reason as AuthError).code === "invalid_token"));
    assert.equal(jwks.hits, 2, "initial fetch + one refresh");
    for (let i = 0; i < 20; i++) await assert.rejects(remote.verify(forged(`more-${i}`)), { code: "invalid_token" });
    assert.equal(jwks.hits, 2, "still inside the cooldown");
    clock.advance(30_000);
    await assert.rejects(remote.verify(forged("after-cooldown")), { code: "invalid_token" });
    assert.equal(jwks.hits, 3);
  });

  it("never fetches from jku/x5u/jwk/x5c in a token header", async () => {
    const { remote, ring } = issuer();
    const key = ring().signingKey();
    const header = {
      alg: "EdDSA",
      typ: "at+jwt",
      kid: key.kid,
      jku: canary.url,
      x5u: canary.url,
      jwk: { kty: "OKP" },
      x5c: ["MIIB"],
    };
    const { sign } = await import("node:crypto");
    const data = `${b64(header)}.${b64({ iss: "https://auth.test", aud: "api", sub: "u", sid: "s", iat: 1_893_456_000, exp: 1_893_456_900, jti: "j" })}`;
    const token = `${data}.${sign(null, Buffer.from(data), key.privateKey).toString("base64url")}`;
    assert.equal((await remote.verify(token)).sub, "u");
    await assert.rejects(
      remote.verify(`${b64({ ...header, kid: "unknown" })}.${data.split(".")[1]}.${token.split(".")[2]}`),
      { code: "invalid_token" },
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(canary.hits, 0);
  });

  it("refuses HS256 tokens made with the published public key (key confusion)", async () => {
    const { remote, ring } = issuer();
    const jwk = ring().jwks().keys[0]!;
    const data = `${b64({ alg: "HS256", typ: "at+jwt", kid: jwk.kid })}.${b64({ iss: "https://auth.test", aud: "api", sub: "u", sid: "s", iat: 1_893_456_000, exp: 1_893_456_900, jti: "j" })}`;
    for (const secret of [JSON.stringify(jwk), String(jwk.x)]) {
      await assert.rejects(
        remote.verify(`${data}.${createHmac("sha256", secret).update(data).digest("base64url")}`),
        /does not match its key/,
      );
    }
  });

  it("imports only usable signature keys with their declared alg", async () => {
    const clock = new ManualClock();
    const ed = KeyRing.fromRecords([generateSigningKeyRecord("EdDSA", 0)], clock).jwks().keys[0]!;
    const es = KeyRing.fromRecords([generateSigningKeyRecord("ES256", 0)], clock).jwks().keys[0]!;
    const otherEd = KeyRing.fromRecords([generateSigningKeyRecord("EdDSA", 0)], clock).jwks().keys[0]!;
    jwks.body = () => ({
      keys: [
        ed,
        es,
        { ...ed, kid: "no-alg", alg: undefined },
        { ...ed, kid: undefined },
        { ...ed, kid: "enc", use: "enc" },
        { ...ed, kid: "none", alg: "none" },
        { ...ed, kid: "hs", alg: "HS256" },
        { kty: "oct", k: "c2VjcmV0", kid: "oct", alg: "HS256" },
        { ...ed, kid: "rs", alg: "RS256" },
        { ...ed, kid: "ed-as-es", alg: "ES256" },
        { ...es, kid: "es-as-ed", alg: "EdDSA" },
        { ...otherEd, kid: ed.kid }, // duplicate kid must not replace the first
        { ...ed, kid: "no-use", use: undefined },
        "junk",
        null,
      ],
    });
    jwks.status = 200;
    jwks.hang = false;
    const set = createRemoteKeySet({ jwksUrl: jwks.url, clock });
    await set.ready();
    assert.equal(set.resolve(ed.kid as string)?.alg, "EdDSA");
    assert.equal(set.resolve(ed.kid as string)?.key.export({ format: "jwk" }).x, ed.x, "the first key with that kid");
    assert.equal(set.resolve(es.kid as string)?.alg, "ES256");
    assert.equal(set.resolve("no-use")?.alg, "EdDSA", "use is optional");
    for (const kid of ["no-alg", "enc", "none", "hs", "oct", "rs", "ed-as-es", "es-as-ed"])
      assert.equal(set.resolve(kid), undefined, kid);
  });

  it("fetch failures: unavailable with no keys, old keys kept otherwise", async () => {
    const { remote, token, clock } = issuer({ maxAgeMs: 60_000, cooldownMs: 1000 });
    jwks.status = 500;
    await assert.rejects(
      remote.verify(token()),
      (e: unknown) => e instanceof AuthError && e.code === "unavailable" && /HTTP 500/.test(e.message),
    );
    const hitsAfterFailure = jwks.hits;
    await assert.rejects(remote.verify(token()), { code: "unavailable" });
    assert.equal(jwks.hits, hitsAfterFailure, "a failure is repeated for a moment, not refetched on every request");
    clock.advance(2000);
    jwks.status = 200;
    assert.equal((await remote.verify(token())).sub, "u");
    jwks.status = 503;
    clock.advance(120_000); // stale: the next lookup starts a background refresh that fails
    assert.equal((await remote.verify(token())).sub, "u");
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal((await remote.verify(token())).sub, "u", "the cached keys keep working while the issuer is down");
  });

  it("stale keys are refreshed in the background after maxAgeMs", async () => {
    const { remote, token, clock } = issuer({ maxAgeMs: 60_000 });
    await remote.verify(token());
    assert.equal(jwks.hits, 1);
    clock.advance(59_000);
    await remote.verify(token());
    assert.equal(jwks.hits, 1);
    clock.advance(1000);
    await remote.verify(token());
    await remote.keySet.refreshForUnknownKid(); // waits for the background fetch, if any
    assert.equal(jwks.hits, 2);
  });

  it("a hanging JWKS endpoint times out as unavailable", async () => {
    const clock = new ManualClock();
    jwks.hang = true;
    const set = createRemoteKeySet({ jwksUrl: jwks.url, clock, fetchTimeoutMs: 200 });
    await assert.rejects(
      set.ready(),
      (e: unknown) => e instanceof AuthError && e.code === "unavailable" && /timed out/.test(e.message),
    );
    jwks.hang = false;
  });

  it("refuses bad options", () => {
    const clock = new ManualClock();
    for (const [options, pattern] of [
      [{ jwksUrl: "not a url" }, /jwksUrl/],
      [{ jwksUrl: "file:///etc/passwd" }, /jwksUrl/],
      [{ jwksUrl: "https://user:pw@auth.test/jwks" }, /credentials/],
      [{ jwksUrl: "https://auth.test/jwks", fetchTimeoutMs: 0 }, /fetchTimeoutMs/],
      [{ jwksUrl: "https://auth.test/jwks", cooldownMs: -1 }, /cooldownMs/],
    ] as const) {
      assert.throws(
        () => createRemoteKeySet({ clock, ...options }),
        (e: unknown) => e instanceof AuthError && e.code === "invalid_config" && pattern.test(e.message),
      );
    }
  });
});
