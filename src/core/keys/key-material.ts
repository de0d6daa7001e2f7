import {
  createHash,
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  generateKeyPairSync,
  type JsonWebKey,
  type KeyObject,
} from "node:crypto";
import type { SigningKeyRecord } from "../store/store.ts";
import type { AsymmetricAlgorithm, SigningKey, VerificationKey } from "./key-ring.ts";

/** The JOSE key type and curve each asymmetric algorithm uses (RFC 8037, RFC 7518 §3.4). */
const CURVES: Record<AsymmetricAlgorithm, { kty: "OKP" | "EC"; crv: string; nodeType: string; nodeCurve?: string }> = {
  EdDSA: { kty: "OKP", crv: "Ed25519", nodeType: "ed25519" },
  ES256: { kty: "EC", crv: "P-256", nodeType: "ec", nodeCurve: "prime256v1" },
};

/** Whether `alg` is one of the asymmetric algorithms Gatehouse signs and verifies with. */
export function isAsymmetricAlgorithm(alg: unknown): alg is AsymmetricAlgorithm {
  return alg === "EdDSA" || alg === "ES256";
}

/** The precomputed, base64url-encoded protected header every token from this key carries. */
export function encodeTokenHeader(alg: string, kid: string): string {
  return Buffer.from(JSON.stringify({ alg, typ: "at+jwt", kid }), "utf8").toString("base64url");
}

/** RFC 7638 JWK thumbprint (SHA-256, base64url) over the required public members only. */
export function jwkThumbprint(jwk: JsonWebKey): string {
  const members =
    jwk.kty === "EC" ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y } : { crv: jwk.crv, kty: jwk.kty, x: jwk.x };
  return createHash("sha256").update(JSON.stringify(members)).digest("base64url");
}

/** Public members only (kty, crv, x[, y]) plus kid, alg and use: what a JWKS may publish. */
export function publicJwkOf(publicKey: KeyObject, alg: AsymmetricAlgorithm, kid: string): JsonWebKey {
  const { kty, crv, x, y } = publicKey.export({ format: "jwk" });
  return kty === "EC"
    ? ({ kty, crv, x, y, kid, alg, use: "sig" } as JsonWebKey)
    : ({ kty, crv, x, kid, alg, use: "sig" } as JsonWebKey);
}

/**
 * A new key pair as a store record: kid is its RFC 7638 thumbprint, it signs from `now`
 * (callers move `activatesAt` when publishing ahead) and has no retirement yet.
 */
export function generateSigningKeyRecord(alg: AsymmetricAlgorithm, now: number): SigningKeyRecord {
  const { privateKey, publicKey } =
    alg === "EdDSA" ? generateKeyPairSync("ed25519") : generateKeyPairSync("ec", { namedCurve: "P-256" });
  const kid = jwkThumbprint(publicKey.export({ format: "jwk" }));
  const publicJwk = publicJwkOf(publicKey, alg, kid);
  const privateJwk = { ...publicJwk, d: privateKey.export({ format: "jwk" }).d };
  return {
    kid,
    alg,
    privateJwk: JSON.stringify(privateJwk),
    publicJwk: JSON.stringify(publicJwk),
    createdAt: now,
    activatesAt: now,
    retiredAt: null,
    expiresAt: null,
  };
}

/**
 * Imports a public JWK for `alg`, using only its public members and checking that the key
 * type and curve are the ones `alg` requires. Returns undefined for anything else.
 */
export function importPublicJwk(jwk: JsonWebKey, alg: AsymmetricAlgorithm): KeyObject | undefined {
  const expected = CURVES[alg];
  if (jwk.kty !== expected.kty || jwk.crv !== expected.crv || typeof jwk.x !== "string") return undefined;
  if (expected.kty === "EC" && typeof jwk.y !== "string") return undefined;
  const members: JsonWebKey =
    expected.kty === "EC"
      ? { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y as string }
      : { kty: jwk.kty, crv: jwk.crv, x: jwk.x };
  try {
    const key = createPublicKey({ key: members, format: "jwk" });
    return matchesAlgorithm(key, alg) ? key : undefined;
  } catch {
    return undefined;
  }
}

/** A stored asymmetric key, imported once. Undefined when the record is unusable (unknown alg, bad JWK). */
export function importSigningKeyRecord(record: SigningKeyRecord): { signing: SigningKey; jwk: JsonWebKey } | undefined {
  if (!isAsymmetricAlgorithm(record.alg)) return undefined;
  try {
    const privateKey = createPrivateKey({ key: JSON.parse(record.privateJwk) as JsonWebKey, format: "jwk" });
    if (!matchesAlgorithm(privateKey, record.alg)) return undefined;
    const publicKey = createPublicKey(privateKey);
    const signing: SigningKey = Object.freeze({
      kid: record.kid,
      alg: record.alg,
      key: publicKey,
      privateKey,
      encodedHeader: encodeTokenHeader(record.alg, record.kid),
    });
    return { signing, jwk: Object.freeze(publicJwkOf(publicKey, record.alg, record.kid)) };
  } catch {
    return undefined;
  }
}

/**
 * The HS256 key for a shared secret. Its kid is a domain-separated SHA-256 of the secret,
 * cut to 16 characters: stable across instances, and useless for recovering the secret.
 */
export function hmacSigningKey(secret: Buffer): SigningKey {
  const kid = `hs256-${createHash("sha256").update("gatehouse HS256 key id\0").update(secret).digest("base64url").slice(0, 16)}`;
  const key = createSecretKey(secret);
  return Object.freeze({ kid, alg: "HS256", key, privateKey: key, encodedHeader: encodeTokenHeader("HS256", kid) });
}

/** Narrows a signing key to what verification needs, so the private half never leaves the ring. */
export function verificationPart(signing: SigningKey): VerificationKey {
  return Object.freeze({ kid: signing.kid, alg: signing.alg, key: signing.key });
}

function matchesAlgorithm(key: KeyObject, alg: AsymmetricAlgorithm): boolean {
  const expected = CURVES[alg];
  if (key.asymmetricKeyType !== expected.nodeType) return false;
  return expected.nodeCurve === undefined || key.asymmetricKeyDetails?.namedCurve === expected.nodeCurve;
}
