import { createHmac, type KeyObject, timingSafeEqual, verify as verifySignature, webcrypto } from "node:crypto";
import { createVerifier } from "fast-jwt";
import { importJWK, type JWTPayload, jwtVerify } from "jose";
import jsonwebtoken from "jsonwebtoken";
import { systemClock } from "../src/core/clock.ts";
import type { SigningAlgorithm } from "../src/core/keys/key-ring.ts";
import { createAccessTokenVerifier } from "../src/core/tokens/access-token-verifier.ts";
import { type AlgorithmFixture, AUDIENCE, algorithmFixture, expectedSub, ISSUER, TOKEN_POOL_SIZE } from "./fixtures.ts";
import { type Contender, compareInterleaved, type MicroOptions } from "./harness.ts";
import { type PartResult, type ResultRow, withRatios } from "./results.ts";

export const RAW = "raw node:crypto";
export const GATEHOUSE_UNCACHED = "Gatehouse (cache off)";
export const FAST_JWT = "fast-jwt";
export const JOSE = "jose (await each)";
export const JWT_KEYOBJECT = "jsonwebtoken (KeyObject)";
export const JWT_STRING = "jsonwebtoken (string secret, seeds)";

/** The claims Gatehouse requires; libraries that can check presence are asked to do the same work. */
const REQUIRED_CLAIMS = ["exp", "iat", "sub", "sid", "jti"];

/** fast-jwt options doing what Gatehouse's verifier checks (algorithm pinned, iss, aud, typ, required claims). */
function equivalentFastJwtChecks(alg: SigningAlgorithm) {
  return {
    algorithms: [alg],
    allowedIss: ISSUER,
    allowedAud: AUDIENCE,
    checkTyp: "at+jwt",
    requiredClaims: REQUIRED_CLAIMS,
  };
}

const pick = (tokens: readonly string[], i: number): string => tokens[i % TOKEN_POOL_SIZE]!;

/**
 * The floor: split, one HMAC or signature check, JSON.parse of the payload. No header,
 * claim or form checks at all, so no real verifier can reach it.
 */
function rawVerifier(fixture: AlgorithmFixture): (token: string) => unknown {
  // A KeyObject imported once, and latin1 (a token is ASCII): the cheapest way to feed node:crypto.
  const key: KeyObject = fixture.verifyKey;
  const checkSignature = (signingInput: string, signature: Buffer): boolean => {
    switch (fixture.alg) {
      case "HS256": {
        const expected = createHmac("sha256", key).update(signingInput, "latin1").digest();
        return expected.length === signature.length && timingSafeEqual(expected, signature);
      }
      case "EdDSA":
        return verifySignature(null, Buffer.from(signingInput, "latin1"), key, signature);
      case "ES256":
        return verifySignature(
          "sha256",
          Buffer.from(signingInput, "latin1"),
          { key, dsaEncoding: "ieee-p1363" },
          signature,
        );
    }
  };
  return (token) => {
    const dot1 = token.indexOf(".");
    const dot2 = token.lastIndexOf(".");
    if (!checkSignature(token.slice(0, dot2), Buffer.from(token.slice(dot2 + 1), "base64url")))
      throw new Error("bad signature");
    return JSON.parse(Buffer.from(token.slice(dot1 + 1, dot2), "base64url").toString("utf8"));
  };
}

async function joseKey(fixture: AlgorithmFixture): Promise<webcrypto.CryptoKey> {
  if (fixture.secret !== undefined) {
    return webcrypto.subtle.importKey(
      "raw",
      Buffer.from(fixture.secret, "utf8"),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["verify"],
    );
  }
  return (await importJWK(fixture.publicJwk!, fixture.alg)) as webcrypto.CryptoKey;
}

/** Every contender for one algorithm, verifying the same pool of Gatehouse-signed tokens with equivalent checks. */
async function verifyContenders(fixture: AlgorithmFixture): Promise<Contender[]> {
  const { alg, tokens } = fixture;
  const gatehouse = createAccessTokenVerifier({
    resolveKey: (kid) => fixture.ring.resolve(kid),
    issuer: ISSUER,
    audience: AUDIENCE,
    clock: systemClock,
    cache: false,
  });
  const fast = createVerifier({ key: fixture.verifyKeyText, ...equivalentFastJwtChecks(alg) });
  const joseVerifyKey = await joseKey(fixture);
  const raw = rawVerifier(fixture);
  const contenders: Contender[] = [
    { name: RAW, run: (i) => raw(pick(tokens, i)) },
    { name: GATEHOUSE_UNCACHED, run: (i) => gatehouse(pick(tokens, i)) },
    { name: FAST_JWT, run: (i) => fast(pick(tokens, i)) },
    {
      name: JOSE,
      async: true,
      run: async (i) =>
        (
          await jwtVerify(pick(tokens, i), joseVerifyKey, {
            issuer: ISSUER,
            audience: AUDIENCE,
            algorithms: [alg],
            typ: "at+jwt",
            requiredClaims: REQUIRED_CLAIMS,
          })
        ).payload,
    },
  ];
  // jsonwebtoken 9 has no EdDSA.
  if (alg !== "EdDSA") {
    const jwtOptions: jsonwebtoken.VerifyOptions & { complete?: false } = {
      algorithms: [alg],
      issuer: ISSUER,
      audience: AUDIENCE,
    };
    contenders.push({
      name: JWT_KEYOBJECT,
      run: (i) => jsonwebtoken.verify(pick(tokens, i), fixture.verifyKey, jwtOptions),
    });
  }
  if (fixture.secret !== undefined) {
    const secret = fixture.secret;
    // Exactly the seeds' call: a string secret and no options.
    contenders.push({ name: JWT_STRING, run: (i) => jsonwebtoken.verify(pick(tokens, i), secret) });
  }
  return contenders;
}

/** Refuses to time a contender that does not actually accept the tokens. */
export async function assertContendersWork(
  contenders: readonly Contender[],
  subOf: (result: unknown) => unknown,
  expected: (i: number) => string = expectedSub,
): Promise<void> {
  for (const contender of contenders) {
    for (let i = 0; i < 3; i++) {
      const sub = subOf(await contender.run(i));
      if (sub !== expected(i))
        throw new Error(`bench: ${contender.name} did not verify token ${i} (got sub ${String(sub)})`);
    }
  }
}

const subOfResult = (result: unknown): unknown => (result as JWTPayload | undefined)?.sub;

async function benchVerify(alg: SigningAlgorithm, options: MicroOptions): Promise<PartResult> {
  const fixture = algorithmFixture(alg);
  const contenders = await verifyContenders(fixture);
  await assertContendersWork(contenders, subOfResult);
  const opsPerSecond = await compareInterleaved(contenders, options);
  return contenderRows(
    `${alg} verify`,
    `verify.${alg}`,
    [RAW, GATEHOUSE_UNCACHED, FAST_JWT, JOSE, JWT_KEYOBJECT, JWT_STRING],
    opsPerSecond,
    alg,
  );
}

export const CACHE_GATEHOUSE = "Gatehouse (default cache)";
export const CACHE_FAST_JWT = "fast-jwt (cache: true)";

/**
 * The same token verified again and again: Gatehouse's bounded cache of verified tokens
 * (keyed by the whole token, valid until exp) against fast-jwt's cache. Each call gets a
 * freshly allocated copy of the token, as a request handler does, so no one profits from a
 * string hash computed on an earlier call. Uncached Gatehouse is shown for scale.
 */
async function benchCacheHit(options: MicroOptions): Promise<PartResult> {
  const fixture = algorithmFixture("HS256");
  // A server parses a new string out of every request's header: hand each call a fresh copy too.
  const tokenBytes = Buffer.from(fixture.tokens[0]!, "latin1");
  const freshToken = () => tokenBytes.toString("latin1");
  const cached = createAccessTokenVerifier({
    resolveKey: (kid) => fixture.ring.resolve(kid),
    issuer: ISSUER,
    audience: AUDIENCE,
    clock: systemClock,
  });
  const uncached = createAccessTokenVerifier({
    resolveKey: (kid) => fixture.ring.resolve(kid),
    issuer: ISSUER,
    audience: AUDIENCE,
    clock: systemClock,
    cache: false,
  });
  const fast = createVerifier({ key: fixture.verifyKeyText, ...equivalentFastJwtChecks("HS256"), cache: true });
  const contenders: Contender[] = [
    { name: CACHE_FAST_JWT, run: () => fast(freshToken()) },
    { name: CACHE_GATEHOUSE, run: () => cached(freshToken()) },
    { name: GATEHOUSE_UNCACHED, run: () => uncached(freshToken()) },
  ];
  await assertContendersWork(contenders, subOfResult, () => expectedSub(0));
  const opsPerSecond = await compareInterleaved(contenders, options);
  const section = "HS256 verify, one token repeated (cache hit)";
  const rows: ResultRow[] = contenders.map((c) => ({
    section,
    name: c.name,
    value: opsPerSecond.get(c.name)!,
    unit: "ops/s",
  }));
  return {
    rows: withRatios(rows, CACHE_FAST_JWT),
    values: {
      "cache.gatehouse": opsPerSecond.get(CACHE_GATEHOUSE)!,
      "cache.fastjwt": opsPerSecond.get(CACHE_FAST_JWT)!,
    },
  };
}

/** Verify throughput for HS256, EdDSA and ES256, then the cache-hit comparison. */
export async function benchTokenVerification(options: MicroOptions): Promise<PartResult[]> {
  const parts: PartResult[] = [];
  for (const alg of ["HS256", "EdDSA", "ES256"] as const) parts.push(await benchVerify(alg, options));
  parts.push(await benchCacheHit(options));
  return parts;
}

/**
 * One section of ops/s rows in the given order, with ratios to raw node:crypto, plus the
 * values for the results file under `valuePrefix`. jsonwebtoken has no EdDSA: it gets a note.
 */
export function contenderRows(
  section: string,
  valuePrefix: string,
  names: string[],
  opsPerSecond: Map<string, number>,
  alg: SigningAlgorithm,
): PartResult {
  const rows: ResultRow[] = names
    .filter((name) => opsPerSecond.has(name) || (name === JWT_KEYOBJECT && alg === "EdDSA"))
    .map((name) => ({
      section,
      name,
      value: opsPerSecond.get(name) ?? null,
      unit: "ops/s",
      ...(opsPerSecond.has(name) ? {} : { note: "no EdDSA support" }),
    }));
  const values: Record<string, number> = {};
  for (const [name, ops] of opsPerSecond) values[`${valuePrefix}.${name}`] = ops;
  return { rows: withRatios(rows, RAW), values };
}
