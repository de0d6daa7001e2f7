import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import { ManualClock } from "../../src/core/clock.ts";
import { importPublicJwk, importSigningKeyRecord, jwkThumbprint } from "../../src/core/keys/key-material.ts";
import { KeyRing } from "../../src/core/keys/key-ring.ts";
import { createAccessTokenSigner } from "../../src/core/tokens/access-token-signer.ts";
import { createAccessTokenVerifier } from "../../src/core/tokens/access-token-verifier.ts";
import { decodeBase64url, encodeBase64url } from "../../src/core/tokens/base64url.ts";
import { signJws, verifyJws } from "../../src/core/tokens/jws-signature.ts";
import type { SigningKeyRecord } from "../../src/core/store/store.ts";

/** RFC 8037 Appendix A.1: the Ed25519 private key. */
const A1_PRIVATE_JWK = {
  kty: "OKP",
  crv: "Ed25519",
  d: "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A",
  x: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
};
/** A.2: its public key. */
const A2_PUBLIC_JWK = { kty: "OKP", crv: "Ed25519", x: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo" };
/** A.3: the thumbprint input (RFC 7638), its SHA-256 and the base64url thumbprint. */
const A3_THUMBPRINT_INPUT = '{"crv":"Ed25519","kty":"OKP","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}';
const A3_THUMBPRINT_SHA256 = "90facafea9b1556698540f70c0117a22ea37bd5cf3ed3c47093c1707282b4b89";
const A3_THUMBPRINT = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k";
/** A.4: protected header, payload text, their encodings, and the resulting JWS. */
const A4_HEADER = '{"alg":"EdDSA"}';
const A4_ENCODED_HEADER = "eyJhbGciOiJFZERTQSJ9";
const A4_PAYLOAD = "Example of Ed25519 signing";
const A4_ENCODED_PAYLOAD = "RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
const A4_SIGNING_INPUT = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
const A4_SIGNATURE = "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";
const A4_JWS =
  "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc." +
  "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";

/** The A.1 key as Gatehouse stores it; kid is its thumbprint, as for every generated key. */
const RFC_RECORD: SigningKeyRecord = {
  kid: A3_THUMBPRINT,
  alg: "EdDSA",
  privateJwk: JSON.stringify(A1_PRIVATE_JWK),
  publicJwk: JSON.stringify({ ...A2_PUBLIC_JWK, kid: A3_THUMBPRINT, alg: "EdDSA", use: "sig" }),
  createdAt: 0,
  activatesAt: 0,
  retiredAt: null,
  expiresAt: null,
};

const flipBit = (bytes: Buffer, bit: number): Buffer => {
  const copy = Buffer.from(bytes);
  copy[bit >> 3]! ^= 1 << (bit & 7);
  return copy;
};

describe("RFC 8037 Appendix A (Ed25519) against Gatehouse's primitives", () => {
  it("A.1/A.2: the private key imports for EdDSA and publishes exactly the A.2 public members (§2: no d)", () => {
    const imported = importSigningKeyRecord(RFC_RECORD);
    assert.ok(imported, "the RFC's OKP private JWK imports");
    assert.deepEqual(imported.jwk, { ...A2_PUBLIC_JWK, kid: A3_THUMBPRINT, alg: "EdDSA", use: "sig" });
    assert.equal(decodeBase64url(A2_PUBLIC_JWK.x)?.length, 32, "§2: x is the 32-octet public key");
  });

  it("A.3: the JWK thumbprint (RFC 7638) of the public key", () => {
    assert.equal(createHash("sha256").update(A3_THUMBPRINT_INPUT).digest("hex"), A3_THUMBPRINT_SHA256);
    assert.equal(jwkThumbprint(A2_PUBLIC_JWK), A3_THUMBPRINT);
    assert.equal(jwkThumbprint(A1_PRIVATE_JWK), A3_THUMBPRINT, "the private member d is not part of it");
  });

  it("A.4: header and payload encode to the RFC's base64url", () => {
    assert.equal(encodeBase64url(A4_HEADER), A4_ENCODED_HEADER);
    assert.equal(encodeBase64url(A4_PAYLOAD), A4_ENCODED_PAYLOAD);
    assert.equal(`${A4_ENCODED_HEADER}.${A4_ENCODED_PAYLOAD}`, A4_SIGNING_INPUT);
    assert.equal(`${A4_SIGNING_INPUT}.${A4_SIGNATURE}`, A4_JWS);
  });

  it("A.4: Ed25519 is deterministic, so the signer's primitive gives the RFC's exact signature", () => {
    const { signing } = importSigningKeyRecord(RFC_RECORD)!;
    assert.equal(signJws(signing, A4_SIGNING_INPUT), A4_SIGNATURE);
  });

  it("A.5: the signature verifies with the A.2 public key; any flipped bit or changed input fails", () => {
    const key = importPublicJwk(A2_PUBLIC_JWK, "EdDSA");
    assert.ok(key, "the RFC's public JWK imports for EdDSA");
    const verification = { kid: A3_THUMBPRINT, alg: "EdDSA" as const, key };
    const signature = decodeBase64url(A4_SIGNATURE)!;
    assert.equal(signature.length, 64);
    assert.equal(verifyJws(verification, A4_SIGNING_INPUT, signature), true);
    for (const bit of [0, 255, 256, 511]) {
      assert.equal(verifyJws(verification, A4_SIGNING_INPUT, flipBit(signature, bit)), false, `bit ${bit}`);
    }
    assert.equal(
      verifyJws(verification, `${A4_ENCODED_HEADER}.${encodeBase64url("Example of Ed25519 signinG")}`, signature),
      false,
    );
    assert.equal(verifyJws(verification, A4_SIGNING_INPUT, signature.subarray(0, 63)), false, "a short signature");
  });

  it("the access-token verifier refuses the A.4 JWS itself: it is no access token (no typ, no kid, no claims)", () => {
    const ring = KeyRing.fromRecords([RFC_RECORD], new ManualClock());
    const verify = createAccessTokenVerifier({
      resolveKey: (kid) => ring.resolve(kid),
      issuer: "rfc8037",
      audience: "rfc8037",
      clock: new ManualClock(),
      cache: false,
    });
    assert.throws(() => verify(A4_JWS), { code: "invalid_token", message: /typ must be "at\+jwt"/ });
  });

  it("access tokens signed with the RFC key verify with the A.2 public key alone", () => {
    const clock = new ManualClock();
    const ring = KeyRing.fromRecords([RFC_RECORD], clock);
    assert.deepEqual(ring.jwks().keys, [{ ...A2_PUBLIC_JWK, kid: A3_THUMBPRINT, alg: "EdDSA", use: "sig" }]);
    const sign = createAccessTokenSigner({ ring, issuer: "rfc8037", audience: "api", ttlSeconds: 60, clock });
    const { token } = sign({ sub: "user", sid: "session" });
    const [header, payload, signature] = token.split(".") as [string, string, string];
    assert.deepEqual(JSON.parse(decodeBase64url(header)!.toString()), {
      alg: "EdDSA",
      typ: "at+jwt",
      kid: A3_THUMBPRINT,
    });
    const key = importPublicJwk(A2_PUBLIC_JWK, "EdDSA")!;
    assert.equal(
      verifyJws({ kid: A3_THUMBPRINT, alg: "EdDSA", key }, `${header}.${payload}`, decodeBase64url(signature)!),
      true,
    );
    const again = sign({ sub: "user", sid: "session" }).token;
    assert.notEqual(again, token, "the payload differs (jti), so the signature does too");
  });

  it("§3.1/§2: only Ed25519 keys serve EdDSA; Ed448, X25519 (key agreement), EC keys and short x are refused", () => {
    assert.equal(importPublicJwk({ ...A2_PUBLIC_JWK, crv: "Ed448" }, "EdDSA"), undefined);
    assert.equal(importPublicJwk({ ...A2_PUBLIC_JWK, crv: "X25519" }, "EdDSA"), undefined);
    assert.equal(importPublicJwk({ ...A2_PUBLIC_JWK, kty: "EC" }, "EdDSA"), undefined);
    assert.equal(importPublicJwk(A2_PUBLIC_JWK, "ES256"), undefined);
    const shortX = encodeBase64url(decodeBase64url(A2_PUBLIC_JWK.x)!.subarray(0, 31));
    assert.equal(importPublicJwk({ ...A2_PUBLIC_JWK, x: shortX }, "EdDSA"), undefined);
  });
});
