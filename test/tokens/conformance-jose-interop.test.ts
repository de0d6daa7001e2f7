import assert from "node:assert/strict";
import { createHmac, generateKeyPairSync, type KeyObject, randomBytes, sign } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import express from "express";
import {
  CompactEncrypt,
  calculateJwkThumbprint,
  createLocalJWKSet,
  createRemoteJWKSet,
  exportJWK,
  type JWK,
  type JWTVerifyOptions,
  jwtVerify,
  SignJWT,
} from "jose";
import { ManualClock } from "../../src/core/clock.ts";
import { hmacSigningKey } from "../../src/core/keys/key-material.ts";
import { createResourceServer, type ResourceServer } from "../../src/resource-server.ts";
import { listen } from "../../src/server/start-server.ts";
import { request, STRONG_PASSWORD } from "../helpers/http.ts";
import { startTestServer, type TestServer } from "../helpers/test-server.ts";

/**
 * Gatehouse and jose (panva/jose) against each other, over real HTTP on 127.0.0.1:
 * jose verifies Gatehouse tokens through Gatehouse's JWKS; Gatehouse's resource server
 * verifies jose-signed tokens through a JWKS that jose exported; and a table of forgeries
 * that both must refuse, plus the few spellings where Gatehouse is deliberately stricter.
 */

/** jose options that state Gatehouse's claim rules (RFC 9068 access tokens, 60 s skew). */
function joseRules(issuer: string, audience: string, algorithms: string[]): JWTVerifyOptions {
  return {
    issuer,
    audience,
    algorithms,
    typ: "at+jwt",
    clockTolerance: 60,
    requiredClaims: ["exp", "iat", "sub", "sid", "jti"],
    // Only so that jose, like Gatehouse, refuses an iat in the future; no access token lives this long.
    maxTokenAge: "365d",
  };
}

/** A registered user's access token from a running Gatehouse server. */
async function loginToken(server: TestServer): Promise<string> {
  const credentials = { username: "interop", password: STRONG_PASSWORD };
  const registered = await request(`${server.url}/auth/register`, { method: "POST", json: credentials });
  assert.equal(registered.status, 201, registered.text);
  const login = await request(`${server.url}/auth/login`, { method: "POST", json: credentials });
  assert.equal(login.status, 200, login.text);
  return (login.body as { access_token: string }).access_token;
}

const decodeSegment = (segment: string): Record<string, unknown> =>
  JSON.parse(Buffer.from(segment, "base64url").toString("utf8"));

describe("jose verifies Gatehouse-signed access tokens through Gatehouse's JWKS", () => {
  for (const alg of ["EdDSA", "ES256"] as const) {
    describe(alg, () => {
      let server: TestServer;
      let token: string;
      before(async () => {
        server = await startTestServer({ signingAlgorithm: alg });
        token = await loginToken(server);
      });
      after(() => server.close());

      it("createRemoteJWKSet + jwtVerify accept it with Gatehouse's rules, and see the same claims", async () => {
        const jwks = createRemoteJWKSet(new URL(`${server.url}/.well-known/jwks.json`));
        const { payload, protectedHeader } = await jwtVerify(token, jwks, joseRules("gatehouse", "gatehouse", [alg]));
        const [header, claims] = token.split(".") as [string, string];
        assert.deepEqual(protectedHeader, decodeSegment(header));
        assert.equal(protectedHeader.alg, alg);
        assert.equal(protectedHeader.typ, "at+jwt");
        assert.deepEqual(payload, decodeSegment(claims));
        assert.deepEqual({ ...payload }, { ...server.auth.verifyAccessToken(token) });
      });

      it("createLocalJWKSet over the fetched JWKS accepts it; the kid is the RFC 7638 thumbprint", async () => {
        const document = (await request(`${server.url}/.well-known/jwks.json`)).body as { keys: JWK[] };
        const { protectedHeader } = await jwtVerify(
          token,
          createLocalJWKSet(document),
          joseRules("gatehouse", "gatehouse", [alg]),
        );
        const published = document.keys.find((key) => key.kid === protectedHeader.kid);
        assert.ok(published, "the signing key is in the JWKS");
        assert.equal(published.alg, alg);
        assert.equal(published.use, "sig");
        assert.equal(await calculateJwkThumbprint(published), published.kid);
      });

      it("jose refuses the same token for another audience or issuer, or after it expired", async () => {
        const jwks = createRemoteJWKSet(new URL(`${server.url}/.well-known/jwks.json`));
        await assert.rejects(jwtVerify(token, jwks, joseRules("gatehouse", "other-api", [alg])), {
          code: "ERR_JWT_CLAIM_VALIDATION_FAILED",
          claim: "aud",
        });
        await assert.rejects(jwtVerify(token, jwks, joseRules("someone-else", "gatehouse", [alg])), {
          code: "ERR_JWT_CLAIM_VALIDATION_FAILED",
          claim: "iss",
        });
        const afterExpiry = new Date(((decodeSegment(token.split(".")[1]!).exp as number) + 61) * 1000);
        await assert.rejects(
          jwtVerify(token, jwks, { ...joseRules("gatehouse", "gatehouse", [alg]), currentDate: afterExpiry }),
          { code: "ERR_JWT_EXPIRED" },
        );
      });
    });
  }

  describe("HS256 (a shared secret)", () => {
    const secret = randomBytes(32).toString("hex");
    let server: TestServer;
    let token: string;
    before(async () => {
      server = await startTestServer({ accessTokenSecret: secret });
      token = await loginToken(server);
    });
    after(() => server.close());

    it("jose verifies with the secret's UTF-8 bytes, as Gatehouse keys it", async () => {
      const { payload, protectedHeader } = await jwtVerify(
        token,
        new TextEncoder().encode(secret),
        joseRules("gatehouse", "gatehouse", ["HS256"]),
      );
      assert.equal(protectedHeader.alg, "HS256");
      assert.deepEqual({ ...payload }, { ...server.auth.verifyAccessToken(token) });
    });

    it("the secret is never published: the JWKS is empty, and jose takes no HS256 key from a JWKS anyway", async () => {
      const document = (await request(`${server.url}/.well-known/jwks.json`)).body as { keys: JWK[] };
      assert.deepEqual(document, { keys: [] });
      await assert.rejects(
        jwtVerify(token, createLocalJWKSet(document), joseRules("gatehouse", "gatehouse", ["HS256"])),
        { code: "ERR_JOSE_NOT_SUPPORTED", message: /Unsupported "alg" value for a JSON Web Key Set/ },
      );
    });

    it("Gatehouse accepts a jose-signed HS256 token with its kid, and refuses another secret's", async () => {
      const kid = server.auth.keys.signingKey().kid;
      const now = Math.floor(Date.now() / 1000);
      const joseToken = await new SignJWT({ sid: "session-1", jti: "jti-1" })
        .setProtectedHeader({ alg: "HS256", typ: "at+jwt", kid })
        .setIssuer("gatehouse")
        .setAudience("gatehouse")
        .setSubject("user-1")
        .setIssuedAt(now)
        .setExpirationTime(now + 600)
        .sign(new TextEncoder().encode(secret));
      assert.equal(server.auth.verifyAccessToken(joseToken).sub, "user-1");
      assert.equal(kid, hmacSigningKey(Buffer.from(secret, "utf8")).kid, "the kid is derived from the secret");

      const otherSecret = await new SignJWT({ sid: "session-1", jti: "jti-2" })
        .setProtectedHeader({ alg: "HS256", typ: "at+jwt", kid })
        .setIssuer("gatehouse")
        .setAudience("gatehouse")
        .setSubject("user-1")
        .setIssuedAt(now)
        .setExpirationTime(now + 600)
        .sign(randomBytes(32));
      assert.throws(() => server.auth.verifyAccessToken(otherSecret), {
        code: "invalid_token",
        message: /signature is invalid/,
      });
    });
  });
});

// ---- jose signs, Gatehouse's resource server verifies ----

const ISSUER = "https://issuer-test";
const AUDIENCE = "orders-api";

interface PublishedKey {
  alg: "EdDSA" | "ES256";
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  jwk: JWK;
}

async function publishedKey(alg: "EdDSA" | "ES256"): Promise<PublishedKey> {
  const { privateKey, publicKey } =
    alg === "EdDSA" ? generateKeyPairSync("ed25519") : generateKeyPairSync("ec", { namedCurve: "P-256" });
  const exported = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(exported);
  return { alg, kid, privateKey, publicKey, jwk: { ...exported, kid, alg, use: "sig" } };
}

/** A JWKS document served over HTTP on 127.0.0.1, as an issuer would. */
async function serveJwks(keys: JWK[]): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((_req, res) => {
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ keys }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const b64 = (value: unknown): string =>
  Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");

/** Raw JWS signature bytes with node:crypto, independent of both libraries under test. */
function rawSignature(
  alg: string,
  key: KeyObject | Buffer,
  data: string,
  dsaEncoding: "ieee-p1363" | "der" = "ieee-p1363",
) {
  const bytes = Buffer.from(data, "latin1");
  if (alg === "HS256") return createHmac("sha256", key).update(bytes).digest();
  if (alg === "ES256") return sign("sha256", bytes, { key: key as KeyObject, dsaEncoding });
  return sign(null, bytes, key as KeyObject);
}

function compact(header: object, claims: object | string, alg: string, key: KeyObject | Buffer): string {
  const signingInput = `${b64(header)}.${b64(claims)}`;
  return `${signingInput}.${rawSignature(alg, key, signingInput).toString("base64url")}`;
}

describe("Gatehouse's resource server and jose, on jose-signed tokens and forgeries", () => {
  let eddsa: PublishedKey;
  let es256: PublishedKey;
  let attacker: PublishedKey;
  let jwksServer: { url: string; close(): Promise<void> };
  let gate: ResourceServer;
  let joseKeys: ReturnType<typeof createRemoteJWKSet>;
  const rules = () => joseRules(ISSUER, AUDIENCE, ["EdDSA", "ES256"]);
  const nowSeconds = () => Math.floor(Date.now() / 1000);
  /** Claims that pass every rule of both libraries; override to break one. */
  const claims = (overrides: Record<string, unknown> = {}) => {
    const now = nowSeconds();
    const base = { iss: ISSUER, aud: AUDIENCE, sub: "user-1", sid: "session-1", jti: randomBytes(8).toString("hex") };
    return { ...base, iat: now, exp: now + 600, ...overrides };
  };
  const header = (key: PublishedKey, overrides: Record<string, unknown> = {}) => ({
    alg: key.alg,
    typ: "at+jwt",
    kid: key.kid,
    ...overrides,
  });
  const signedBy = (key: PublishedKey, headerOverrides: Record<string, unknown> = {}, claimOverrides = {}) =>
    compact(header(key, headerOverrides), claims(claimOverrides), key.alg, key.privateKey);

  before(async () => {
    [eddsa, es256, attacker] = await Promise.all([publishedKey("EdDSA"), publishedKey("ES256"), publishedKey("EdDSA")]);
    jwksServer = await serveJwks([eddsa.jwk, es256.jwk]);
    gate = createResourceServer({ jwksUrl: jwksServer.url, issuer: ISSUER, audience: AUDIENCE });
    joseKeys = createRemoteJWKSet(new URL(jwksServer.url));
  });
  after(() => jwksServer.close());

  for (const which of ["EdDSA", "ES256"] as const) {
    it(`${which}: a token signed by jose's SignJWT is accepted by both, with the same claims`, async () => {
      const key = which === "EdDSA" ? eddsa : es256;
      const now = nowSeconds();
      const token = await new SignJWT({ sid: "session-9", jti: `jti-${which}`, scope: "orders:read", roles: ["admin"] })
        .setProtectedHeader({ alg: key.alg, typ: "at+jwt", kid: key.kid })
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setSubject("user-9")
        .setIssuedAt(now)
        .setExpirationTime(now + 900)
        .sign(key.privateKey);
      const gatehouseClaims = await gate.verify(token);
      const { payload } = await jwtVerify(token, joseKeys, rules());
      assert.deepEqual({ ...gatehouseClaims }, { ...payload });
      assert.equal(gatehouseClaims.sub, "user-9");
      assert.deepEqual(gatehouseClaims.roles, ["admin"]);
    });
  }

  it("requireAuth of a resource server lets a jose-signed token through over HTTP, and stops a forgery", async () => {
    const app = express();
    app.get("/orders", gate.requireAuth(), (req, res) => res.json({ user: req.auth!.userId }));
    const { server, url } = await listen(app, 0, "127.0.0.1");
    try {
      const token = await new SignJWT({ sid: "session-1", jti: "jti-http" })
        .setProtectedHeader({ alg: "EdDSA", typ: "at+jwt", kid: eddsa.kid })
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setSubject("user-http")
        .setIssuedAt()
        .setExpirationTime("10m")
        .sign(eddsa.privateKey);
      const ok = await request(`${url}/orders`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(ok.status, 200, ok.text);
      assert.deepEqual(ok.body, { user: "user-http" });
      const forged = signedBy(attacker, { kid: eddsa.kid });
      const refused = await request(`${url}/orders`, { headers: { authorization: `Bearer ${forged}` } });
      assert.equal(refused.status, 401);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  /**
   * Each row: a token, why Gatehouse refuses it (message), and the jose error code. Rows
   * marked `bothAccept` are valid spellings both must take (so the rules are not simply
   * "refuse everything").
   */
  interface Row {
    name: string;
    token: () => Promise<string> | string;
    gatehouse: RegExp | "accepts";
    /** jose's error code, and for claim failures the claim it names. */
    jose: string | "accepts";
    joseClaim?: string;
  }

  const forgeries = (): Row[] => [
    {
      name: 'alg "none" with an empty signature',
      token: () => `${b64(header(eddsa, { alg: "none" }))}.${b64(claims())}.`,
      gatehouse: /alg "none"/,
      jose: "ERR_JOSE_ALG_NOT_ALLOWED",
    },
    {
      name: "HS256 keyed with the published public key (algorithm confusion)",
      token: () => {
        const publicPem = Buffer.from(eddsa.publicKey.export({ type: "spki", format: "pem" }));
        return compact(header(eddsa, { alg: "HS256" }), claims(), "HS256", publicPem);
      },
      gatehouse: /algorithm does not match its key/,
      jose: "ERR_JOSE_ALG_NOT_ALLOWED",
    },
    {
      name: "a kid nobody published, signed with the attacker's key",
      token: () => signedBy(attacker),
      gatehouse: /unknown or expired key/,
      jose: "ERR_JWKS_NO_MATCHING_KEY",
    },
    {
      name: "a published kid, signed with the attacker's key",
      token: () => signedBy(attacker, { kid: eddsa.kid }),
      gatehouse: /signature is invalid/,
      jose: "ERR_JWS_SIGNATURE_VERIFICATION_FAILED",
    },
    {
      name: "the EdDSA key's kid with alg ES256, signed by the ES256 key",
      token: () => compact(header(eddsa, { alg: "ES256" }), claims(), "ES256", es256.privateKey),
      gatehouse: /algorithm does not match its key/,
      jose: "ERR_JWKS_NO_MATCHING_KEY",
    },
    {
      name: "the attacker's key embedded in the header (jwk)",
      token: () => signedBy(attacker, { jwk: attacker.jwk }),
      gatehouse: /unknown or expired key/,
      jose: "ERR_JWKS_NO_MATCHING_KEY",
    },
    {
      name: "a jku pointing at the attacker's key set",
      token: () => signedBy(attacker, { jku: "http://127.0.0.1:9/attacker-jwks.json" }),
      gatehouse: /unknown or expired key/,
      jose: "ERR_JWKS_NO_MATCHING_KEY",
    },
    {
      name: "typ JWT (an ID token or other JWT, not an access token)",
      token: () => signedBy(eddsa, { typ: "JWT" }),
      gatehouse: /typ must be "at\+jwt"/,
      jose: "ERR_JWT_CLAIM_VALIDATION_FAILED",
      joseClaim: "typ",
    },
    {
      name: "no typ at all",
      token: () => signedBy(eddsa, { typ: undefined }),
      gatehouse: /typ must be "at\+jwt"/,
      jose: "ERR_JWT_CLAIM_VALIDATION_FAILED",
      joseClaim: "typ",
    },
    {
      name: "expired an hour ago",
      token: () => signedBy(eddsa, {}, { iat: nowSeconds() - 4500, exp: nowSeconds() - 3600 }),
      gatehouse: /has expired/,
      jose: "ERR_JWT_EXPIRED",
      joseClaim: "exp",
    },
    {
      name: "expired 61 s ago (just outside the 60 s skew)",
      token: () => signedBy(eddsa, {}, { iat: nowSeconds() - 900, exp: nowSeconds() - 61 }),
      gatehouse: /has expired/,
      jose: "ERR_JWT_EXPIRED",
      joseClaim: "exp",
    },
    {
      name: "nbf an hour ahead",
      token: () => signedBy(eddsa, {}, { nbf: nowSeconds() + 3600 }),
      gatehouse: /not valid yet/,
      jose: "ERR_JWT_CLAIM_VALIDATION_FAILED",
      joseClaim: "nbf",
    },
    {
      name: "iat an hour ahead",
      token: () => signedBy(eddsa, {}, { iat: nowSeconds() + 3600, exp: nowSeconds() + 4500 }),
      gatehouse: /issued in the future/,
      jose: "ERR_JWT_CLAIM_VALIDATION_FAILED",
      joseClaim: "iat",
    },
    {
      name: "another issuer",
      token: () => signedBy(eddsa, {}, { iss: "https://evil-issuer" }),
      gatehouse: /issued by someone else/,
      jose: "ERR_JWT_CLAIM_VALIDATION_FAILED",
      joseClaim: "iss",
    },
    {
      name: "another audience",
      token: () => signedBy(eddsa, {}, { aud: "billing-api" }),
      gatehouse: /another audience/,
      jose: "ERR_JWT_CLAIM_VALIDATION_FAILED",
      joseClaim: "aud",
    },
    {
      name: "no sid",
      token: () => signedBy(eddsa, {}, { sid: undefined }),
      gatehouse: /no session id/,
      jose: "ERR_JWT_CLAIM_VALIDATION_FAILED",
      joseClaim: "sid",
    },
    {
      name: "no jti",
      token: () => signedBy(eddsa, {}, { jti: undefined }),
      gatehouse: /no token id/,
      jose: "ERR_JWT_CLAIM_VALIDATION_FAILED",
      joseClaim: "jti",
    },
    {
      name: "crit names an extension neither understands (RFC 7515 §4.1.11)",
      token: () => signedBy(eddsa, { crit: ["urn:example:policy"], "urn:example:policy": "strict" }),
      gatehouse: /header extensions \(crit\)/,
      jose: "ERR_JOSE_NOT_SUPPORTED",
    },
    {
      name: "b64=false with an unencoded payload (RFC 7797)",
      token: () => {
        const protectedHeader = b64(header(eddsa, { b64: false, crit: ["b64"] }));
        const payload = JSON.stringify(claims());
        const signature = rawSignature("EdDSA", eddsa.privateKey, `${protectedHeader}.${payload}`);
        return `${protectedHeader}.${payload}.${signature.toString("base64url")}`;
      },
      gatehouse: /header extensions \(crit\)/,
      jose: "ERR_JWT_INVALID",
    },
    {
      name: "a JWE (compact, five segments) carrying valid claims",
      token: () =>
        new CompactEncrypt(new TextEncoder().encode(JSON.stringify(claims())))
          .setProtectedHeader({ alg: "dir", enc: "A256GCM", kid: eddsa.kid, typ: "at+jwt" })
          .encrypt(randomBytes(32)),
      gatehouse: /Encrypted tokens \(JWE\)/,
      jose: "ERR_JWS_INVALID",
    },
    {
      name: "the payload changed after signing",
      token: () => {
        const [h, , s] = signedBy(eddsa).split(".");
        return `${h}.${b64(claims({ sub: "admin" }))}.${s}`;
      },
      gatehouse: /signature is invalid/,
      jose: "ERR_JWS_SIGNATURE_VERIFICATION_FAILED",
    },
    {
      name: "the signature stripped",
      token: () => signedBy(eddsa).replace(/[^.]+$/, ""),
      gatehouse: /signature is not strict/,
      jose: "ERR_JWS_SIGNATURE_VERIFICATION_FAILED",
    },
    {
      name: "an ES256 signature DER-encoded instead of R||S (RFC 7518 §3.4)",
      token: () => {
        const signingInput = `${b64(header(es256))}.${b64(claims())}`;
        const der = rawSignature("ES256", es256.privateKey, signingInput, "der");
        return `${signingInput}.${der.toString("base64url")}`;
      },
      gatehouse: /signature is invalid/,
      jose: "ERR_JWS_SIGNATURE_VERIFICATION_FAILED",
    },
    // Valid spellings: both must accept.
    {
      name: "typ application/at+jwt (the full media type, RFC 9068 §2.1)",
      token: () => signedBy(eddsa, { typ: "application/at+jwt" }),
      gatehouse: "accepts",
      jose: "accepts",
    },
    {
      name: "typ AT+JWT (media types are case-insensitive)",
      token: () => signedBy(es256, { typ: "AT+JWT" }),
      gatehouse: "accepts",
      jose: "accepts",
    },
    {
      name: "aud as a list that contains this API",
      token: () => signedBy(eddsa, {}, { aud: ["billing-api", AUDIENCE] }),
      gatehouse: "accepts",
      jose: "accepts",
    },
    {
      name: "expired 30 s ago (inside the 60 s skew both allow)",
      token: () => signedBy(eddsa, {}, { iat: nowSeconds() - 900, exp: nowSeconds() - 30 }),
      gatehouse: "accepts",
      jose: "accepts",
    },
  ];

  /**
   * Where Gatehouse is deliberately stricter than jose. Each is a property of Gatehouse's
   * own tokens that a verifier can demand: they always carry a kid and are spelled in
   * canonical base64url (so one token has one spelling: the verify cache keys on the
   * text), and its claim types are checked.
   */
  const stricterThanJose = (): Row[] => [
    {
      name: "no kid (jose picks the only key of that type in the set)",
      token: () => signedBy(eddsa, { kid: undefined }),
      gatehouse: /no key id \(kid\)/,
      jose: "accepts",
    },
    {
      name: "the signature padded with '=' (RFC 7515 §2 forbids padding)",
      token: () => `${signedBy(eddsa)}==`,
      gatehouse: /signature is not strict/,
      jose: "accepts",
    },
    {
      name: "the same signature bytes spelled with non-zero unused bits",
      token: () => {
        const token = signedBy(eddsa);
        const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        const last = alphabet.indexOf(token.at(-1)!);
        return `${token.slice(0, -1)}${alphabet[last ^ 1]}`; // 64 bytes: the last character's low 4 bits are unused
      },
      gatehouse: /signature is not strict/,
      jose: "accepts",
    },
    {
      name: "roles that is not a list of strings",
      token: () => signedBy(eddsa, {}, { roles: "admin" }),
      gatehouse: /roles claim is not a list of strings/,
      jose: "accepts",
    },
  ];

  async function gatehouseOutcome(token: string): Promise<"accepts" | Error> {
    try {
      await gate.verify(token);
      return "accepts";
    } catch (error) {
      return error as Error;
    }
  }

  async function joseOutcome(token: string): Promise<"accepts" | Error> {
    try {
      await jwtVerify(token, joseKeys, rules());
      return "accepts";
    } catch (error) {
      return error as Error;
    }
  }

  async function check(row: Row): Promise<void> {
    const token = await row.token();
    const gatehouse = await gatehouseOutcome(token);
    if (row.gatehouse === "accepts") assert.equal(gatehouse, "accepts", `Gatehouse: ${String(gatehouse)}`);
    else {
      assert.notEqual(gatehouse, "accepts", "Gatehouse accepted it");
      assert.equal((gatehouse as Error & { code?: string }).code, "invalid_token");
      assert.match((gatehouse as Error).message, row.gatehouse);
    }
    const jose = await joseOutcome(token);
    if (row.jose === "accepts") assert.equal(jose, "accepts", `jose: ${String(jose)}`);
    else {
      assert.notEqual(jose, "accepts", "jose accepted it");
      assert.equal((jose as Error & { code?: string }).code, row.jose, (jose as Error).message);
      if (row.joseClaim !== undefined) assert.equal((jose as Error & { claim?: string }).claim, row.joseClaim);
    }
  }

  describe("forgeries both refuse, and valid spellings both accept", () => {
    for (const row of forgeries()) it(row.name, () => check(row));
  });

  describe("documented differences: Gatehouse refuses, jose accepts", () => {
    for (const row of stricterThanJose()) it(row.name, () => check(row));

    it("a JWKS entry without alg: Gatehouse skips the key (it pins each key's algorithm), jose infers it", async () => {
      const { alg: _declared, ...withoutAlg } = eddsa.jwk;
      const bare = await serveJwks([withoutAlg]);
      try {
        const strictGate = createResourceServer({
          jwksUrl: bare.url,
          issuer: ISSUER,
          audience: AUDIENCE,
          cooldownMs: 0,
        });
        const token = signedBy(eddsa);
        await assert.rejects(strictGate.verify(token), { code: "invalid_token", message: /unknown or expired key/ });
        const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(bare.url)), rules());
        assert.equal(payload.sub, "user-1");
      } finally {
        await bare.close();
      }
    });
  });

  it("exp, nbf and iat flip from accepted to refused at the same instant in both, to the millisecond", async () => {
    const base = Date.UTC(2030, 0, 1) / 1000;
    const clock = new ManualClock(base * 1000);
    const timedGate = createResourceServer({ jwksUrl: jwksServer.url, issuer: ISSUER, audience: AUDIENCE, clock });
    const joseSigned = (times: { iat: number; exp: number; nbf?: number }) => {
      const jwt = new SignJWT({ sid: "session-1", jti: randomBytes(8).toString("hex") })
        .setProtectedHeader({ alg: "EdDSA", typ: "at+jwt", kid: eddsa.kid })
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setSubject("user-1")
        .setIssuedAt(times.iat)
        .setExpirationTime(times.exp);
      return (times.nbf === undefined ? jwt : jwt.setNotBefore(times.nbf)).sign(eddsa.privateKey);
    };
    // Each boundary in ms; instants are visited in increasing time (the verify cache assumes time moves forward).
    const boundaries = [
      {
        claim: "exp",
        token: await joseSigned({ iat: base - 600, exp: base }),
        at: (base + 60) * 1000,
        validAfter: false,
      },
      {
        claim: "nbf",
        token: await joseSigned({ iat: base, nbf: base + 600, exp: base + 1200 }),
        at: (base + 600 - 60) * 1000,
        validAfter: true,
      },
      {
        claim: "iat",
        token: await joseSigned({ iat: base + 600, exp: base + 1200 }),
        at: (base + 540) * 1000,
        validAfter: true,
      },
    ];
    for (const { claim, token, at, validAfter } of boundaries) {
      for (const offset of [-1001, -1000, -999, -1, 0, 1, 999, 1000]) {
        clock.set(at + offset);
        const expected = offset >= 0 === validAfter;
        const gatehouse = await timedGate.verify(token).then(
          () => true,
          () => false,
        );
        const jose = await jwtVerify(token, joseKeys, { ...rules(), currentDate: new Date(at + offset) }).then(
          () => true,
          () => false,
        );
        assert.equal(gatehouse, expected, `Gatehouse, ${claim} boundary ${offset} ms`);
        assert.equal(jose, expected, `jose, ${claim} boundary ${offset} ms`);
      }
    }
  });
});
