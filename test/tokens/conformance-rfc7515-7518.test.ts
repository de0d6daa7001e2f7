import assert from "node:assert/strict";
import { createHash, createHmac, createSecretKey, type JsonWebKey, randomBytes, verify } from "node:crypto";
import { describe, it } from "node:test";
import { calculateJwkThumbprint } from "jose";
import { ManualClock } from "../../src/core/clock.ts";
import {
  generateSigningKeyRecord,
  importPublicJwk,
  importSigningKeyRecord,
  jwkThumbprint,
  publicJwkOf,
} from "../../src/core/keys/key-material.ts";
import { KeyRing, type SigningKey, type VerificationKey } from "../../src/core/keys/key-ring.ts";
import { assertStrongSecret } from "../../src/core/keys/secret-strength.ts";
import { createAccessTokenVerifier } from "../../src/core/tokens/access-token-verifier.ts";
import { decodeBase64url, encodeBase64url, isStrictBase64url } from "../../src/core/tokens/base64url.ts";
import { createHmacSha256 } from "../../src/core/tokens/hmac-sha256.ts";
import { signJws, verifyJws } from "../../src/core/tokens/jws-signature.ts";
import type { SigningKeyRecord } from "../../src/core/store/store.ts";

// ---- RFC 7515 Appendix A.1: Example JWS Using HMAC SHA-256 ----

/** A.1.1: UTF8(JWS Protected Header) `{"typ":"JWT",CRLF "alg":"HS256"}`. */
const A1_HEADER_OCTETS = [
  123, 34, 116, 121, 112, 34, 58, 34, 74, 87, 84, 34, 44, 13, 10, 32, 34, 97, 108, 103, 34, 58, 34, 72, 83, 50, 53, 54,
  34, 125,
];
const A1_ENCODED_HEADER = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9";
/** A.1.1: the JWS Payload `{"iss":"joe",CRLF "exp":1300819380,CRLF "http://example.com/is_root":true}`. */
const A1_PAYLOAD_OCTETS = [
  123, 34, 105, 115, 115, 34, 58, 34, 106, 111, 101, 34, 44, 13, 10, 32, 34, 101, 120, 112, 34, 58, 49, 51, 48, 48, 56,
  49, 57, 51, 56, 48, 44, 13, 10, 32, 34, 104, 116, 116, 112, 58, 47, 47, 101, 120, 97, 109, 112, 108, 101, 46, 99, 111,
  109, 47, 105, 115, 95, 114, 111, 111, 116, 34, 58, 116, 114, 117, 101, 125,
];
const A1_ENCODED_PAYLOAD =
  "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt" + "cGxlLmNvbS9pc19yb290Ijp0cnVlfQ";
/** A.1.1: the JWS Signing Input as ASCII octets. */
const A1_SIGNING_INPUT_OCTETS = [
  101, 121, 74, 48, 101, 88, 65, 105, 79, 105, 74, 75, 86, 49, 81, 105, 76, 65, 48, 75, 73, 67, 74, 104, 98, 71, 99,
  105, 79, 105, 74, 73, 85, 122, 73, 49, 78, 105, 74, 57, 46, 101, 121, 74, 112, 99, 51, 77, 105, 79, 105, 74, 113, 98,
  50, 85, 105, 76, 65, 48, 75, 73, 67, 74, 108, 101, 72, 65, 105, 79, 106, 69, 122, 77, 68, 65, 52, 77, 84, 107, 122,
  79, 68, 65, 115, 68, 81, 111, 103, 73, 109, 104, 48, 100, 72, 65, 54, 76, 121, 57, 108, 101, 71, 70, 116, 99, 71, 120,
  108, 76, 109, 78, 118, 98, 83, 57, 112, 99, 49, 57, 121, 98, 50, 57, 48, 73, 106, 112, 48, 99, 110, 86, 108, 102, 81,
];
/** A.1.1: the symmetric key as a JWK (RFC 7518 §6.4: "k" is the base64url key value). */
const A1_KEY_JWK = {
  kty: "oct",
  k: "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75" + "aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow",
};
/** A.1.1: the JWS Signature octets and their base64url encoding. */
const A1_SIGNATURE_OCTETS = [
  116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212, 37, 77, 105, 214, 191, 240, 91,
  88, 5, 88, 83, 132, 141, 121,
];
const A1_ENCODED_SIGNATURE = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const A1_EXP_SECONDS = 1300819380;

// ---- RFC 7515 Appendix A.3: Example JWS Using ECDSA P-256 SHA-256 ----

/** A.3.1: the EC key (RFC 7518 §6.2 members). */
const A3_KEY_JWK = {
  kty: "EC",
  crv: "P-256",
  x: "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
  y: "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
  d: "jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI",
};
/** A.3.1: header `{"alg":"ES256"}`, the A.1 payload, and the signature R||S. */
const A3_JWS =
  "eyJhbGciOiJFUzI1NiJ9" +
  "." +
  "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt" +
  "cGxlLmNvbS9pc19yb290Ijp0cnVlfQ" +
  "." +
  "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSA" +
  "pmWQxfKTUJqPP3-Kg6NU1Q";

const { d: _a3PrivateScalar, ...A3_PUBLIC_JWK } = A3_KEY_JWK;
const a1Key = (): Buffer => decodeBase64url(A1_KEY_JWK.k)!;
const splitJws = (jws: string) => {
  const [header, payload, signature] = jws.split(".") as [string, string, string];
  return { header, payload, signature, signingInput: `${header}.${payload}` };
};

function recordFromJwk(jwk: object, alg: "ES256" | "EdDSA", kid: string): SigningKeyRecord {
  return {
    kid,
    alg,
    privateJwk: JSON.stringify(jwk),
    publicJwk: "{}",
    createdAt: 0,
    activatesAt: 0,
    retiredAt: null,
    expiresAt: null,
  };
}

/** DER `SEQUENCE { INTEGER r, INTEGER s }` of an R||S signature (the form JWS forbids, RFC 7518 §3.4). */
function derFromRawEcdsa(raw: Buffer): Buffer {
  const integer = (bytes: Buffer) => {
    let start = 0;
    while (start < bytes.length - 1 && bytes[start] === 0) start++;
    const trimmed = bytes.subarray(start);
    const body = trimmed[0]! & 0x80 ? Buffer.concat([Buffer.of(0), trimmed]) : trimmed;
    return Buffer.concat([Buffer.of(0x02, body.length), body]);
  };
  const content = Buffer.concat([integer(raw.subarray(0, 32)), integer(raw.subarray(32))]);
  return Buffer.concat([Buffer.of(0x30, content.length), content]);
}

describe("RFC 7515 Appendix A.1 (HS256) against Gatehouse's primitives", () => {
  it("A.1.1: header and payload octets encode to the RFC's base64url, strictly", () => {
    assert.equal(encodeBase64url(Uint8Array.from(A1_HEADER_OCTETS)), A1_ENCODED_HEADER);
    assert.equal(encodeBase64url(Uint8Array.from(A1_PAYLOAD_OCTETS)), A1_ENCODED_PAYLOAD);
    assert.deepEqual([...decodeBase64url(A1_ENCODED_HEADER)!], A1_HEADER_OCTETS);
    assert.deepEqual([...decodeBase64url(A1_ENCODED_PAYLOAD)!], A1_PAYLOAD_OCTETS);
    const signingInput = `${A1_ENCODED_HEADER}.${A1_ENCODED_PAYLOAD}`;
    assert.deepEqual([...Buffer.from(signingInput, "ascii")], A1_SIGNING_INPUT_OCTETS);
  });

  it("A.1.1: the oct key's k is strict base64url of a 512-bit key (RFC 7518 §3.2 wants at least 256)", () => {
    assert.equal(isStrictBase64url(A1_KEY_JWK.k), true);
    assert.equal(a1Key().length, 64);
    assert.equal(encodeBase64url(a1Key()), A1_KEY_JWK.k);
  });

  it("A.1.1: the verifier's HMAC, the signer and verifyJws all give the RFC's signature", () => {
    const signingInput = `${A1_ENCODED_HEADER}.${A1_ENCODED_PAYLOAD}`;
    const mac = createHmacSha256(a1Key())(signingInput);
    assert.deepEqual([...mac], A1_SIGNATURE_OCTETS);
    assert.equal(encodeBase64url(mac), A1_ENCODED_SIGNATURE);

    const secret = createSecretKey(a1Key());
    const signing: SigningKey = {
      kid: "a1",
      alg: "HS256",
      key: secret,
      privateKey: secret,
      encodedHeader: A1_ENCODED_HEADER,
    };
    assert.equal(signJws(signing, signingInput), A1_ENCODED_SIGNATURE);
    // A.1.2: validate by recomputing the MAC and comparing.
    assert.equal(verifyJws(signing, signingInput, decodeBase64url(A1_ENCODED_SIGNATURE)!), true);
    assert.equal(verifyJws(signing, `${signingInput}x`, decodeBase64url(A1_ENCODED_SIGNATURE)!), false);
  });

  describe("the access-token verifier refuses the A.1 JWS, for the right reasons", () => {
    const KID = "rfc7515-a1";
    const keyFor = (kid: string): VerificationKey | undefined =>
      kid === KID ? { kid, alg: "HS256", key: createSecretKey(a1Key()) } : undefined;
    const verifierAt = (ms: number) =>
      createAccessTokenVerifier({
        resolveKey: keyFor,
        issuer: "joe",
        audience: "anyone",
        clock: new ManualClock(ms),
        cache: false,
      });
    /** The RFC's exact payload bytes under another header, signed with node's own HMAC. */
    const withHeader = (header: object, payload = A1_ENCODED_PAYLOAD) => {
      const signingInput = `${encodeBase64url(JSON.stringify(header))}.${payload}`;
      return `${signingInput}.${createHmac("sha256", a1Key()).update(signingInput).digest("base64url")}`;
    };
    const beforeExp = (A1_EXP_SECONDS - 600) * 1000;

    it("as published: typ is JWT, not at+jwt (RFC 9068 §4 requires the explicit type)", () => {
      const jws = `${A1_ENCODED_HEADER}.${A1_ENCODED_PAYLOAD}.${A1_ENCODED_SIGNATURE}`;
      assert.throws(() => verifierAt(beforeExp)(jws), { code: "invalid_token", message: /typ must be "at\+jwt"/ });
    });

    it("with typ at+jwt but no kid: refused for the missing key id", () => {
      const jws = withHeader({ typ: "at+jwt", alg: "HS256" });
      assert.throws(() => verifierAt(beforeExp)(jws), { code: "invalid_token", message: /no key id \(kid\)/ });
    });

    it("with a kid: the RFC key verifies the signature, then the claims fail (it has no iat)", () => {
      const jws = withHeader({ typ: "at+jwt", alg: "HS256", kid: KID });
      // Claims are read only after the signature verified, so this message proves the MAC matched.
      assert.throws(() => verifierAt(beforeExp)(jws), { code: "invalid_token", message: /no valid iat/ });
      const tampered = `${jws.slice(0, -1)}${jws.endsWith("A") ? "Q" : "A"}`;
      assert.throws(() => verifierAt(beforeExp)(tampered), { code: "invalid_token", message: /signature is invalid/ });
    });

    it("with the header's alg changed to one the key is not pinned to: refused before any MAC", () => {
      const jws = withHeader({ typ: "at+jwt", alg: "HS512", kid: KID });
      assert.throws(() => verifierAt(beforeExp)(jws), { code: "invalid_token", message: /algorithm does not match/ });
    });
  });
});

describe("RFC 7515 Appendix A.3 (ES256) against Gatehouse's primitives", () => {
  const { signingInput, signature } = splitJws(A3_JWS);

  it("A.3.2: the given signature verifies with the public key, as R||S of 64 octets", () => {
    const key = importPublicJwk(A3_PUBLIC_JWK, "ES256");
    assert.ok(key, "the RFC's P-256 JWK imports for ES256");
    const raw = decodeBase64url(signature)!;
    assert.equal(raw.length, 64);
    assert.equal(verifyJws({ kid: "a3", alg: "ES256", key }, signingInput, raw), true);
    assert.equal(verifyJws({ kid: "a3", alg: "ES256", key }, signingInput.replace("ey", "eY"), raw), false);
  });

  it("RFC 7518 §3.4: the same signature DER-encoded is refused (only R||S is a JWS signature)", () => {
    const key = importPublicJwk(A3_PUBLIC_JWK, "ES256")!;
    const der = derFromRawEcdsa(decodeBase64url(signature)!);
    assert.equal(
      verify("sha256", Buffer.from(signingInput), { key, dsaEncoding: "der" }, der),
      true,
      "the DER is right",
    );
    assert.equal(verifyJws({ kid: "a3", alg: "ES256", key }, signingInput, der), false);
  });

  it("round trip: the RFC private key signs (randomized, RFC 7518 §3.4 note) and every signature verifies", () => {
    const imported = importSigningKeyRecord(recordFromJwk(A3_KEY_JWK, "ES256", "rfc7515-a3"));
    assert.ok(imported, "the RFC's private JWK imports as an ES256 signing key");
    const publicKey = importPublicJwk(A3_PUBLIC_JWK, "ES256")!;
    const signatures = [signJws(imported.signing, signingInput), signJws(imported.signing, signingInput)];
    assert.notEqual(signatures[0], signatures[1], "ECDSA signatures are randomized");
    assert.ok(!signatures.includes(signature));
    for (const own of signatures) {
      const raw = decodeBase64url(own)!;
      assert.equal(raw.length, 64);
      assert.equal(verifyJws({ kid: "a3", alg: "ES256", key: publicKey }, signingInput, raw), true);
    }
  });

  it("key type and curve are pinned: the P-256 key does not import for EdDSA, and other curves not for ES256", () => {
    assert.equal(importPublicJwk(A3_PUBLIC_JWK, "EdDSA"), undefined);
    assert.equal(importPublicJwk({ ...A3_PUBLIC_JWK, crv: "P-384" }, "ES256"), undefined);
    assert.equal(importPublicJwk({ ...A3_PUBLIC_JWK, kty: "OKP" }, "ES256"), undefined);
    const offCurve = { ...A3_PUBLIC_JWK, y: `${A3_PUBLIC_JWK.y.slice(0, -1)}w` };
    assert.equal(importPublicJwk(offCurve, "ES256"), undefined, "a point not on the curve is refused");
  });
});

describe("RFC 7518 §6.2 (EC) and §6.4 (oct) JWK members as Gatehouse publishes them", () => {
  it("§6.2.1: the public JWK has kty, crv, x, y (the RFC key's own values), kid, alg, use and never d", () => {
    const imported = importSigningKeyRecord(recordFromJwk(A3_KEY_JWK, "ES256", "rfc7515-a3"))!;
    assert.deepEqual(imported.jwk, {
      kty: "EC",
      crv: "P-256",
      x: A3_KEY_JWK.x,
      y: A3_KEY_JWK.y,
      kid: "rfc7515-a3",
      alg: "ES256",
      use: "sig",
    });
  });

  it("§6.2.1.2–3: x and y are always the full 32 octets, leading zeros included", () => {
    let leadingZeros = 0;
    for (let i = 0; i < 4000 && leadingZeros < 2; i++) {
      const jwk = JSON.parse(generateSigningKeyRecord("ES256", 0).publicJwk) as JsonWebKey;
      for (const coordinate of [jwk.x!, jwk.y!]) {
        const bytes = decodeBase64url(coordinate);
        assert.equal(bytes?.length, 32, `coordinate ${coordinate}`);
        if (bytes[0] === 0) leadingZeros++;
      }
    }
    assert.ok(leadingZeros >= 2, "the loop met coordinates with a leading zero octet");
  });

  it("§6.4: a shared HS256 secret is never published: the HMAC ring's JWKS is empty", () => {
    const ring = KeyRing.forHmacSecret(randomBytes(32), new ManualClock());
    assert.deepEqual(ring.jwks(), { keys: [] });
  });

  it("§3.2: an HMAC key shorter than 256 bits is refused, 256 bits is accepted", () => {
    assert.throws(() => assertStrongSecret(randomBytes(31).toString("hex"), "ACCESS_TOKEN_SECRET"), {
      code: "invalid_config",
      message: /too short: 31 bytes/,
    });
    assert.equal(assertStrongSecret(randomBytes(32).toString("hex"), "ACCESS_TOKEN_SECRET").length, 64);
  });
});

describe("RFC 7638 JWK thumbprints: generated kids are thumbprints", () => {
  it("§3.2: SHA-256 over the required members in lexicographic order, no whitespace (the A.3 key)", async () => {
    const canonical = `{"crv":"P-256","kty":"EC","x":"${A3_KEY_JWK.x}","y":"${A3_KEY_JWK.y}"}`;
    const expected = createHash("sha256").update(canonical, "utf8").digest("base64url");
    assert.equal(jwkThumbprint(A3_PUBLIC_JWK), expected);
    assert.equal(await calculateJwkThumbprint(A3_PUBLIC_JWK as Parameters<typeof calculateJwkThumbprint>[0]), expected);
  });

  it("§3.3: members other than the required ones (d, kid, alg, use) do not change it", () => {
    assert.equal(jwkThumbprint({ ...A3_KEY_JWK, kid: "x", alg: "ES256", use: "sig" }), jwkThumbprint(A3_PUBLIC_JWK));
  });

  it("a generated key's kid is the thumbprint of its published JWK, for both algorithms", async () => {
    for (const alg of ["EdDSA", "ES256"] as const) {
      const record = generateSigningKeyRecord(alg, 0);
      const published = JSON.parse(record.publicJwk) as JsonWebKey;
      assert.equal(record.kid, jwkThumbprint(published));
      const { kty, crv, x, y } = published;
      const members = (alg === "ES256" ? { kty, crv, x, y } : { kty, crv, x }) as {
        kty: string;
        crv: string;
        x: string;
      };
      assert.equal(record.kid, await calculateJwkThumbprint(members));
      const reimported = importSigningKeyRecord(record)!;
      assert.deepEqual(publicJwkOf(reimported.signing.key, alg, record.kid), published);
    }
  });
});

describe("RFC 7515 §2 and Appendix C: base64url without padding", () => {
  it("Appendix C: the octets [3, 236, 255, 224, 193] are A-z_4ME, both ways", () => {
    assert.equal(encodeBase64url(Uint8Array.of(3, 236, 255, 224, 193)), "A-z_4ME");
    assert.deepEqual([...decodeBase64url("A-z_4ME")!], [3, 236, 255, 224, 193]);
  });

  it("RFC 4648 §10 vectors, with the padding removed as RFC 7515 §2 requires", () => {
    const vectors: [string, string][] = [
      ["f", "Zg"],
      ["fo", "Zm8"],
      ["foo", "Zm9v"],
      ["foob", "Zm9vYg"],
      ["fooba", "Zm9vYmE"],
      ["foobar", "Zm9vYmFy"],
    ];
    for (const [text, encoded] of vectors) {
      assert.equal(encodeBase64url(text), encoded);
      assert.equal(decodeBase64url(encoded)?.toString("utf8"), text);
    }
    assert.equal(encodeBase64url(""), "");
    assert.equal(decodeBase64url(""), undefined, "an empty segment is never a valid JWT part here");
  });

  it("§2: padding, whitespace, the base64 alphabet and non-zero unused bits are all refused", () => {
    for (const spelling of ["A-z_4ME=", "A-z_ 4ME", "A-z_4ME\n", "A+z/4ME", "A-z_4MF", "A-z_4M"]) {
      assert.equal(isStrictBase64url(spelling), false, JSON.stringify(spelling));
      assert.equal(decodeBase64url(spelling), undefined, JSON.stringify(spelling));
    }
  });
});
