import { createHmac, generateKeyPairSync, type KeyObject, sign } from "node:crypto";
import { ManualClock } from "../../src/core/clock.ts";
import { KeyRing } from "../../src/core/keys/key-ring.ts";
import { generateSigningKeyRecord } from "../../src/core/keys/key-material.ts";
import { createAccessTokenSigner } from "../../src/core/tokens/access-token-signer.ts";
import {
  createAccessTokenVerifier,
  type AccessTokenVerifierOptions,
} from "../../src/core/tokens/access-token-verifier.ts";

export const ISSUER = "https://auth.example.test";
export const AUDIENCE = "orders-api";
export const HMAC_SECRET = Buffer.from("3f9a1c7e5b2d4f6081a3c5e7f9b1d3e5a7c9e1f3b5d7f9a1c3e5a7b9d1f3e5a7", "utf8");

/** base64url of a string or of JSON. */
export const b64 = (value: unknown): string =>
  Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");

/** A ring, signer and (uncached unless asked) verifier sharing one ManualClock. */
export function setup(alg: "EdDSA" | "ES256" | "HS256", verifierOptions: Partial<AccessTokenVerifierOptions> = {}) {
  const clock = new ManualClock();
  const ring =
    alg === "HS256"
      ? KeyRing.forHmacSecret(HMAC_SECRET, clock)
      : KeyRing.fromRecords([generateSigningKeyRecord(alg, clock.now())], clock);
  const sign = createAccessTokenSigner({ ring, issuer: ISSUER, audience: AUDIENCE, ttlSeconds: 900, clock });
  const verify = createAccessTokenVerifier({
    resolveKey: (kid) => ring.resolve(kid),
    issuer: ISSUER,
    audience: AUDIENCE,
    clock,
    cache: false,
    ...verifierOptions,
  });
  const key = ring.signingKey();
  const now = Math.floor(clock.now() / 1000);
  /** Claims that pass every rule; override to break one. */
  const claims = (overrides: Record<string, unknown> = {}) => ({
    iss: ISSUER,
    aud: AUDIENCE,
    sub: "user-1",
    sid: "session-1",
    iat: now,
    exp: now + 900,
    jti: "jti-1",
    ...overrides,
  });
  const header = (overrides: Record<string, unknown> = {}) => ({
    alg: key.alg,
    typ: "at+jwt",
    kid: key.kid,
    ...overrides,
  });
  /** Signs arbitrary header and claims with the ring's real key (the attacker cannot, but it isolates one rule). */
  const forge = (h: Record<string, unknown>, c: Record<string, unknown>) =>
    signWith(key.alg, key.privateKey, `${b64(h)}.${b64(c)}`);
  /** Signs an exact payload text (JSON that JSON.stringify cannot produce, or not JSON at all). */
  const forgeText = (h: Record<string, unknown>, payloadText: string) =>
    signWith(key.alg, key.privateKey, `${b64(h)}.${b64(payloadText)}`);
  return { clock, ring, sign, verify, key, now, claims, header, forge, forgeText };
}

export function signWith(alg: string, key: KeyObject | string | Buffer, data: string): string {
  let signature: Buffer;
  if (alg === "HS256") signature = createHmac("sha256", key).update(data).digest();
  else if (alg === "ES256")
    signature = sign("sha256", Buffer.from(data), { key: key as KeyObject, dsaEncoding: "ieee-p1363" });
  else signature = sign(null, Buffer.from(data), key as KeyObject);
  return `${data}.${signature.toString("base64url")}`;
}

export const attackerKey = (): KeyObject => generateKeyPairSync("ed25519").privateKey;
