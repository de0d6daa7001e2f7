import assert from "node:assert/strict";
import { createHmac, createPublicKey, generateKeyPairSync, sign } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import { AuthError } from "../../src/core/errors.ts";
import { createAccessTokenVerifier } from "../../src/core/tokens/access-token-verifier.ts";
import { AUDIENCE, attackerKey, b64, ISSUER, setup, signWith } from "./token-fixtures.ts";

/** Asserts an invalid_token rejection whose message matches `pattern` and never echoes the token. */
function assertRejects(verify: (token: string) => unknown, token: string, pattern: RegExp, what: string): void {
  assert.throws(
    () => verify(token),
    (error: unknown) => {
      assert.ok(error instanceof AuthError, `${what}: AuthError`);
      assert.equal(error.code, "invalid_token", what);
      assert.equal(error.tokenPresented, true, what);
      assert.match(error.message, pattern, what);
      assert.ok(!error.message.includes(token.slice(0, 20)), `${what}: message does not echo the token`);
      return true;
    },
    what,
  );
}

describe("verifier: algorithm and key rules", () => {
  it("control: a token forged with the real key and valid claims is accepted", () => {
    const { verify, forge, header, claims } = setup("EdDSA");
    assert.equal(verify(forge(header(), claims())).sub, "user-1");
  });

  it("alg none in every casing, with an empty and with a garbage signature", () => {
    const { verify, header, claims } = setup("EdDSA");
    for (const alg of ["none", "None", "NONE", "nOnE"]) {
      const unsigned = `${b64(header({ alg }))}.${b64(claims())}`;
      assertRejects(verify, `${unsigned}.`, /alg "none"/, `${alg} empty signature`);
      assertRejects(verify, `${unsigned}.${b64("garbage")}`, /alg "none"/, `${alg} garbage signature`);
    }
  });

  it("key confusion: HS256 signed with the EdDSA public key as PEM text and as JWK text", () => {
    const { verify, ring, key, claims } = setup("EdDSA");
    const publicJwk = ring.jwks().keys[0]!;
    const pem = createPublicKey({ key: publicJwk, format: "jwk" }).export({ type: "spki", format: "pem" }).toString();
    for (const [label, secret] of [
      ["PEM", pem],
      ["JWK", JSON.stringify(publicJwk)],
      ["x", String(publicJwk.x)],
    ] as const) {
      const data = `${b64({ alg: "HS256", typ: "at+jwt", kid: key.kid })}.${b64(claims())}`;
      assertRejects(
        verify,
        `${data}.${createHmac("sha256", secret).update(data).digest("base64url")}`,
        /does not match its key/,
        label,
      );
    }
  });

  it("any alg other than the one pinned to the key fails, even with a valid signature shape", () => {
    const es = setup("ES256");
    for (const alg of ["EdDSA", "HS256", "RS256", "es256", "ES384", ""]) {
      assertRejects(es.verify, es.forge(es.header({ alg }), es.claims()), /does not match its key/, alg || "empty alg");
    }
    assertRejects(es.verify, es.forge(es.header({ alg: 256 }), es.claims()), /no alg/, "numeric alg");
    assertRejects(es.verify, es.forge(es.header({ alg: undefined }), es.claims()), /no alg/, "missing alg");
    const hs = setup("HS256");
    assertRejects(
      hs.verify,
      hs.forge(hs.header({ alg: "HS512" }), hs.claims()),
      /does not match its key/,
      "HS512 on an HS256 key",
    );
  });

  it("kid injection, odd kids, a very long kid, unknown and missing kid", () => {
    const { verify, forge, header, claims } = setup("EdDSA");
    const attacker = attackerKey();
    for (const kid of [
      "../../dev/null",
      "' OR 1=1 --",
      "/etc/passwd",
      "http://127.0.0.1/keys",
      "unknown-kid",
      "k".repeat(256),
    ]) {
      assertRejects(
        verify,
        signWith("EdDSA", attacker, `${b64(header({ kid }))}.${b64(claims())}`),
        /unknown or expired key/,
        `kid ${kid.slice(0, 20)}`,
      );
    }
    for (const kid of ["k".repeat(257), "k".repeat(5000), "", 42, null, ["a"], { $ne: 1 }]) {
      assertRejects(
        verify,
        forge(header({ kid }), claims()),
        /kid\) is invalid/,
        `kid ${JSON.stringify(kid).slice(0, 20)}`,
      );
    }
    assertRejects(verify, forge(header({ kid: undefined }), claims()), /no key id/, "missing kid");
  });

  it("resolveKey receives the kid as data and is the only lookup", () => {
    const { ring, forge, header, claims } = setup("EdDSA");
    const asked: string[] = [];
    const verify = createAccessTokenVerifier({
      resolveKey: (kid) => {
        asked.push(kid);
        return ring.resolve(kid);
      },
      issuer: ISSUER,
      audience: AUDIENCE,
      clock: { now: () => Date.UTC(2030, 0, 1) },
      cache: false,
    });
    assertRejects(verify, forge(header({ kid: "../../dev/null" }), claims()), /unknown/, "traversal kid");
    assert.deepEqual(asked, ["../../dev/null"]);
  });

  it("jku, x5u, jwk and x5c are never fetched or trusted; the real kid still decides", async () => {
    let hits = 0;
    const canary = createServer((_req, res) => {
      hits++;
      res.end("{}");
    });
    await new Promise<void>((resolve) => canary.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(canary.address() as AddressInfo).port}`;
      const { verify, forge, header, claims, key } = setup("EdDSA");
      const attacker = generateKeyPairSync("ed25519");
      const hostile = {
        jku: `${url}/jwks.json`,
        x5u: `${url}/cert.pem`,
        jwk: { ...attacker.publicKey.export({ format: "jwk" }), kid: "attacker" },
        x5c: ["MIIBdGVzdA=="],
      };
      const selfSigned = signWith(
        "EdDSA",
        attacker.privateKey,
        `${b64(header({ ...hostile, kid: "attacker" }))}.${b64(claims())}`,
      );
      assertRejects(verify, selfSigned, /unknown or expired key/, "self-signed with an embedded key");
      const embeddedWithRealKid = signWith(
        "EdDSA",
        attacker.privateKey,
        `${b64(header({ ...hostile, kid: key.kid }))}.${b64(claims())}`,
      );
      assertRejects(verify, embeddedWithRealKid, /signature is invalid/, "embedded key with the real kid");
      assert.equal(
        verify(forge(header(hostile), claims())).sub,
        "user-1",
        "a validly signed token with those headers verifies by its own kid",
      );
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(hits, 0, "the canary received nothing");
    } finally {
      await new Promise<void>((resolve) => canary.close(() => resolve()));
    }
  });

  it("a wrong signature, a truncated one, and one of the wrong length fail", () => {
    for (const alg of ["EdDSA", "ES256", "HS256"] as const) {
      const { verify, sign } = setup(alg);
      const token = sign({ sub: "u", sid: "s" }).token;
      const [h, p, s] = token.split(".") as [string, string, string];
      const other = sign({ sub: "someone-else", sid: "s" }).token.split(".")[2]!;
      assertRejects(verify, `${h}.${p}.${other}`, /signature is invalid/, `${alg} signature of another token`);
      assertRejects(verify, `${h}.${p}.${s.slice(0, -4)}`, /signature/, `${alg} truncated`);
      assertRejects(verify, `${h}.${p}.${s}AAAA`, /signature is invalid/, `${alg} too long`);
      const tampered = `${h}.${b64({ ...JSON.parse(Buffer.from(p, "base64url").toString()), sub: "admin" })}.${s}`;
      assertRejects(verify, tampered, /signature is invalid/, `${alg} tampered payload`);
    }
  });

  it("an ES256 signature in DER form (not R||S) fails", () => {
    const { verify, key, header, claims } = setup("ES256");
    const data = `${b64(header())}.${b64(claims())}`;
    const der = sign("sha256", Buffer.from(data), key.privateKey).toString("base64url");
    assertRejects(verify, `${data}.${der}`, /signature is invalid/, "DER signature");
    assert.equal(verify(signWith("ES256", key.privateKey, data)).sub, "user-1", "the same data as R||S verifies");
  });
});
