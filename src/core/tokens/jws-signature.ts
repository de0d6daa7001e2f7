import { createHmac, type KeyObject, sign, timingSafeEqual, verify } from "node:crypto";
import type { SigningAlgorithm, SigningKey, VerificationKey } from "../keys/key-ring.ts";
import { createHmacSha256 } from "./hmac-sha256.ts";

/**
 * Signature length per algorithm: the HMAC-SHA-256 output (RFC 7518 §3.2), R||S of two
 * 32-byte integers for ES256 (RFC 7518 §3.4), and an Ed25519 signature (RFC 8032 §5.1.6).
 */
export const SIGNATURE_BYTES: Readonly<Record<SigningAlgorithm, number>> = Object.freeze({
  HS256: 32,
  EdDSA: 64,
  ES256: 64,
});

/**
 * The base64url JWS signature of `signingInput` (`BASE64URL(header) || "." || BASE64URL(payload)`,
 * RFC 7515 §5.1) with the key's pinned algorithm. ES256 signatures are R||S, not DER.
 */
export function signJws(key: SigningKey, signingInput: string): string {
  switch (key.alg) {
    case "HS256":
      return createHmac("sha256", key.privateKey).update(signingInput, "latin1").digest("base64url");
    case "EdDSA":
      return sign(null, Buffer.from(signingInput, "latin1"), key.privateKey).toString("base64url");
    case "ES256":
      return sign("sha256", Buffer.from(signingInput, "latin1"), {
        key: key.privateKey,
        dsaEncoding: "ieee-p1363",
      }).toString("base64url");
  }
}

/**
 * Whether `signature` (decoded bytes) is the key's signature over `signingInput` (RFC 7515
 * §5.2 step 8), with the algorithm pinned to the key, never one a token names. The length
 * is checked first, so a DER-encoded ES256 signature or a truncated HMAC fails without any
 * crypto; HMACs are compared in constant time. Never throws.
 */
export function verifyJws(key: VerificationKey, signingInput: string, signature: Uint8Array): boolean {
  if (signature.length !== SIGNATURE_BYTES[key.alg]) return false;
  try {
    switch (key.alg) {
      case "HS256":
        return timingSafeEqual(hmacFor(key.key)(signingInput), signature);
      case "EdDSA":
        return verify(null, Buffer.from(signingInput, "latin1"), key.key, signature);
      case "ES256":
        return verify(
          "sha256",
          Buffer.from(signingInput, "latin1"),
          { key: key.key, dsaEncoding: "ieee-p1363" },
          signature,
        );
      default:
        return false;
    }
  } catch {
    return false;
  }
}

/** One prepared HMAC function per HS256 key, made on first use (the verify hot path). */
const hmacs = new WeakMap<KeyObject, (message: string) => Buffer>();
function hmacFor(key: KeyObject): (message: string) => Buffer {
  let hmac = hmacs.get(key);
  if (hmac === undefined) hmacs.set(key, (hmac = createHmacSha256(key.export())));
  return hmac;
}
