import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AUDIENCE, ISSUER, setup } from "./token-fixtures.ts";

const decode = (segment: string) => JSON.parse(Buffer.from(segment, "base64url").toString("utf8"));

describe("access tokens: sign then verify", () => {
  for (const alg of ["EdDSA", "ES256", "HS256"] as const) {
    it(`${alg}: header, claims and verification agree`, () => {
      const { sign, verify, key, clock } = setup(alg);
      const signed = sign({ sub: "user-42", sid: "session-7", scope: "orders:read orders:write", roles: ["admin"] });
      const [h, p, s] = signed.token.split(".");
      assert.deepEqual(decode(h!), { alg, typ: "at+jwt", kid: key.kid });
      const payload = decode(p!);
      const iat = Math.floor(clock.now() / 1000);
      assert.deepEqual(
        { ...payload, jti: "x" },
        {
          iss: ISSUER,
          aud: AUDIENCE,
          sub: "user-42",
          sid: "session-7",
          iat,
          exp: iat + 900,
          jti: "x",
          scope: "orders:read orders:write",
          roles: ["admin"],
        },
      );
      assert.match(payload.jti, /^[A-Za-z0-9_-]{22}$/, "jti is 128 random bits in base64url");
      assert.equal(Buffer.from(s!, "base64url").length, alg === "HS256" ? 32 : 64);
      assert.equal(signed.expiresIn, 900);
      assert.deepEqual(signed.claims, payload);

      const claims = verify(signed.token);
      assert.deepEqual({ ...claims }, payload);
      assert.ok(Object.isFrozen(claims), "claims are frozen (cache hits share them)");
    });
  }

  it("omits scope and roles when not given, and every jti differs", () => {
    const { sign, verify } = setup("EdDSA");
    const a = sign({ sub: "u", sid: "s" });
    const b = sign({ sub: "u", sid: "s" });
    assert.equal("scope" in a.claims, false);
    assert.equal("roles" in a.claims, false);
    assert.notEqual(a.claims.jti, b.claims.jti);
    assert.notEqual(a.token, b.token);
    assert.equal(verify(a.token).sub, "u");
  });

  it("HS256 kid is derived from the secret but does not contain it", () => {
    const { key } = setup("HS256");
    assert.match(key.kid, /^hs256-[A-Za-z0-9_-]{16}$/);
    assert.equal(setup("HS256").key.kid, key.kid, "stable across instances");
  });

  it("a token from one EdDSA ring does not verify against another", () => {
    const a = setup("EdDSA");
    const b = setup("EdDSA");
    assert.throws(() => b.verify(a.sign({ sub: "u", sid: "s" }).token), { code: "invalid_token" });
  });
});
