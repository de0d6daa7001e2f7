import { createHmac, randomUUID, sign as signBytes, webcrypto } from "node:crypto";
import { createSigner, createVerifier } from "fast-jwt";
import { importJWK, SignJWT } from "jose";
import jsonwebtoken from "jsonwebtoken";
import type { SigningAlgorithm } from "../src/core/keys/key-ring.ts";
import {
  assertContendersWork,
  contenderRows,
  FAST_JWT,
  JOSE,
  JWT_KEYOBJECT,
  JWT_STRING,
  RAW,
} from "./crypto-verify.ts";
import { type AlgorithmFixture, AUDIENCE, algorithmFixture, expectedSub, ISSUER, TTL_SECONDS } from "./fixtures.ts";
import { type Contender, compareInterleaved, type MicroOptions } from "./harness.ts";
import type { PartResult } from "./results.ts";

export const GATEHOUSE_SIGNER = "Gatehouse";
const SESSION_ID = randomUUID();

/** The claims Gatehouse puts in a token, built fresh per call for the other contenders (random jti included). */
function claimsFor(i: number): {
  iss: string;
  aud: string;
  sub: string;
  sid: string;
  iat: number;
  exp: number;
  jti: string;
} {
  const iat = Math.floor(Date.now() / 1000);
  return {
    iss: ISSUER,
    aud: AUDIENCE,
    sub: expectedSub(i),
    sid: SESSION_ID,
    iat,
    exp: iat + TTL_SECONDS,
    jti: randomUUID(),
  };
}

/** The floor: a precomputed header, JSON.stringify of the claims, one HMAC or signature. */
function rawSigner(fixture: AlgorithmFixture): (i: number) => string {
  const header = Buffer.from(JSON.stringify({ alg: fixture.alg, typ: "at+jwt", kid: fixture.kid })).toString(
    "base64url",
  );
  const key = fixture.signKey;
  return (i) => {
    const input = `${header}.${Buffer.from(JSON.stringify(claimsFor(i))).toString("base64url")}`;
    switch (fixture.alg) {
      case "HS256":
        return `${input}.${createHmac("sha256", key).update(input, "latin1").digest("base64url")}`;
      case "EdDSA":
        return `${input}.${signBytes(null, Buffer.from(input, "latin1"), key).toString("base64url")}`;
      case "ES256":
        return `${input}.${signBytes("sha256", Buffer.from(input, "latin1"), { key, dsaEncoding: "ieee-p1363" }).toString("base64url")}`;
    }
  };
}

async function joseSigningKey(fixture: AlgorithmFixture): Promise<webcrypto.CryptoKey> {
  if (fixture.secret !== undefined) {
    return webcrypto.subtle.importKey(
      "raw",
      Buffer.from(fixture.secret, "utf8"),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
  }
  return (await importJWK(fixture.privateJwk!, fixture.alg)) as webcrypto.CryptoKey;
}

async function signContenders(fixture: AlgorithmFixture): Promise<Contender[]> {
  const { alg, kid } = fixture;
  const raw = rawSigner(fixture);
  const fast = createSigner({
    key: fixture.signKeyText,
    algorithm: alg,
    kid,
    header: { alg, typ: "at+jwt" },
    noTimestamp: true,
  });
  const joseKey = await joseSigningKey(fixture);
  const contenders: Contender[] = [
    { name: RAW, run: raw },
    { name: GATEHOUSE_SIGNER, run: (i) => fixture.sign({ sub: expectedSub(i), sid: SESSION_ID }).token },
    { name: FAST_JWT, run: (i) => fast(claimsFor(i)) },
    {
      name: JOSE,
      async: true,
      run: (i) => new SignJWT(claimsFor(i)).setProtectedHeader({ alg, typ: "at+jwt", kid }).sign(joseKey),
    },
  ];
  if (alg !== "EdDSA") {
    const options: jsonwebtoken.SignOptions = { algorithm: alg, keyid: kid, header: { alg, typ: "at+jwt" } };
    contenders.push({ name: JWT_KEYOBJECT, run: (i) => jsonwebtoken.sign(claimsFor(i), fixture.signKey, options) });
  }
  if (fixture.secret !== undefined) {
    const secret = fixture.secret;
    // The seeds' call: a string secret and an expiresIn string.
    contenders.push({
      name: JWT_STRING,
      run: (i) => {
        const { exp: _exp, ...claims } = claimsFor(i);
        return jsonwebtoken.sign(claims, secret, { expiresIn: `${TTL_SECONDS}s` });
      },
    });
  }
  return contenders;
}

async function benchSign(alg: SigningAlgorithm, options: MicroOptions): Promise<PartResult> {
  const fixture = algorithmFixture(alg);
  const contenders = await signContenders(fixture);
  // Every contender must produce a token that really verifies with the key.
  const check = createVerifier({ key: fixture.verifyKeyText, algorithms: [alg] });
  await assertContendersWork(contenders, (token) => (check(token as string) as { sub?: unknown }).sub);
  const opsPerSecond = await compareInterleaved(contenders, options);
  return contenderRows(
    `${alg} sign`,
    `sign.${alg}`,
    [RAW, GATEHOUSE_SIGNER, FAST_JWT, JOSE, JWT_KEYOBJECT, JWT_STRING],
    opsPerSecond,
    alg,
  );
}

/** Sign throughput for HS256, EdDSA and ES256, every contender producing the same claims. */
export async function benchTokenSigning(options: MicroOptions): Promise<PartResult[]> {
  const parts: PartResult[] = [];
  for (const alg of ["HS256", "EdDSA", "ES256"] as const) parts.push(await benchSign(alg, options));
  return parts;
}
