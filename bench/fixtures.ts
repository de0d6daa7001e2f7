import {
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  type JsonWebKey,
  type KeyObject,
  randomBytes,
  randomUUID,
} from "node:crypto";
import { systemClock } from "../src/core/clock.ts";
import { generateSigningKeyRecord } from "../src/core/keys/key-material.ts";
import { type AsymmetricAlgorithm, KeyRing, type SigningAlgorithm } from "../src/core/keys/key-ring.ts";
import { assertStrongSecret } from "../src/core/keys/secret-strength.ts";
import { type AccessTokenSign, createAccessTokenSigner } from "../src/core/tokens/access-token-signer.ts";

export const ISSUER = "gatehouse";
export const AUDIENCE = "gatehouse";
export const TTL_SECONDS = 900;
/** Distinct tokens each uncached contender cycles through, so no one benefits from seeing one token repeatedly. */
export const TOKEN_POOL_SIZE = 1024;

/**
 * The seeds' secret: 64 random bytes as hex text, used as a string (Gatehouse's HS256 key is
 * likewise the secret's UTF-8 bytes). At 128 bytes it is longer than SHA-256's block, so
 * every HMAC first hashes the key.
 */
export function seedsStyleSecret(): string {
  return randomBytes(64).toString("hex");
}

/** 32 random bytes as base64url text: a typical strong secret, shorter than the HMAC block. */
export function compactSecret(): string {
  return randomBytes(32).toString("base64url");
}

/** Everything one algorithm's contenders need: Gatehouse's ring and signer, the same key in other shapes, and tokens. */
export interface AlgorithmFixture {
  alg: SigningAlgorithm;
  ring: KeyRing;
  kid: string;
  sign: AccessTokenSign;
  /** Verification key (public key, or the HMAC secret) as a KeyObject. */
  verifyKey: KeyObject;
  /** Signing key (private key, or the HMAC secret) as a KeyObject. */
  signKey: KeyObject;
  /** PEM (asymmetric) or the secret string (HS256), for libraries that take text. */
  verifyKeyText: string;
  signKeyText: string;
  /** HS256 only: the secret as text, exactly as the seeds pass it to jsonwebtoken. */
  secret?: string;
  /** JWKs for jose (asymmetric only). */
  publicJwk?: JsonWebKey;
  privateJwk?: JsonWebKey;
  /** Gatehouse-signed tokens, all distinct (different sub and jti). */
  tokens: string[];
}

/** Builds the fixture for one algorithm with a fresh key, through Gatehouse's own key ring and signer. */
export function algorithmFixture(alg: SigningAlgorithm): AlgorithmFixture {
  const clock = systemClock;
  let ring: KeyRing;
  let secret: string | undefined;
  let publicJwk: JsonWebKey | undefined;
  let privateJwk: JsonWebKey | undefined;
  if (alg === "HS256") {
    secret = compactSecret();
    ring = KeyRing.forHmacSecret(assertStrongSecret(secret, "BENCH_SECRET"), clock);
  } else {
    const record = generateSigningKeyRecord(alg as AsymmetricAlgorithm, clock.now());
    ring = KeyRing.fromRecords([record], clock);
    publicJwk = JSON.parse(record.publicJwk) as JsonWebKey;
    privateJwk = JSON.parse(record.privateJwk) as JsonWebKey;
  }
  const signing = ring.signingKey();
  const sign = createAccessTokenSigner({ ring, issuer: ISSUER, audience: AUDIENCE, ttlSeconds: TTL_SECONDS, clock });
  const tokens = Array.from({ length: TOKEN_POOL_SIZE }, (_, n) => sign({ sub: `user-${n}`, sid: randomUUID() }).token);

  if (secret !== undefined) {
    const key = createSecretKey(Buffer.from(secret, "utf8"));
    return {
      alg,
      ring,
      kid: signing.kid,
      sign,
      verifyKey: key,
      signKey: key,
      verifyKeyText: secret,
      signKeyText: secret,
      secret,
      tokens,
    };
  }
  const privateKey = createPrivateKey({ key: privateJwk!, format: "jwk" });
  const publicKey = createPublicKey(privateKey);
  return {
    alg,
    ring,
    kid: signing.kid,
    sign,
    verifyKey: publicKey,
    signKey: privateKey,
    verifyKeyText: publicKey.export({ type: "spki", format: "pem" }).toString(),
    signKeyText: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    publicJwk: publicJwk!,
    privateJwk: privateJwk!,
    tokens,
  };
}

/** The subject of pool token `i`, to check that every contender really verified it. */
export const expectedSub = (i: number): string => `user-${i % TOKEN_POOL_SIZE}`;
