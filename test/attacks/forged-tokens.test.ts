import assert from "node:assert/strict";
import { createHmac, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { REFRESH_COOKIE, refreshCookieFrom, request, STRONG_PASSWORD } from "../helpers/http.ts";
import { startTestServer, type TestServer } from "../helpers/test-server.ts";

const b64 = (value: unknown) =>
  Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");

interface Forge {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
}

describe("attacks on access tokens (RFC 8725)", () => {
  let server: TestServer;
  let canary: Server;
  let canaryUrl: string;
  let canaryHits = 0;
  let kid: string;
  let serverKey: KeyObject;
  let publicJwk: Record<string, unknown>;
  let good: { access: string; cookie: string; claims: Record<string, unknown> };

  const bearer = (token: string) => request(`${server.url}/auth/me`, { headers: { authorization: `Bearer ${token}` } });
  const signEd = (key: KeyObject, f: Forge) => {
    const data = `${b64(f.header)}.${b64(f.claims)}`;
    return `${data}.${sign(null, Buffer.from(data), key).toString("base64url")}`;
  };
  const validClaims = () => ({ ...good.claims, jti: `forged-${Math.random()}` });
  const assertRejected = async (token: string, what: string) => {
    const res = await bearer(token);
    assert.equal(res.status, 401, `${what}: ${res.text}`);
    assert.equal((res.body as { error: string }).error, "invalid_token", what);
    assert.match(res.headers.get("www-authenticate") ?? "", /error="invalid_token"/, what);
  };

  before(async () => {
    canary = createServer((_req, res) => {
      canaryHits++;
      res.end("{}");
    });
    await new Promise<void>((resolve) => canary.listen(0, "127.0.0.1", resolve));
    canaryUrl = `http://127.0.0.1:${(canary.address() as AddressInfo).port}`;

    server = await startTestServer();
    await request(`${server.url}/auth/register`, {
      method: "POST",
      json: { username: "victim", password: STRONG_PASSWORD },
    });
    const login = await request(`${server.url}/auth/login`, {
      method: "POST",
      json: { username: "victim", password: STRONG_PASSWORD },
    });
    const access = (login.body as { access_token: string }).access_token;
    good = {
      access,
      cookie: refreshCookieFrom(login.headers)!,
      claims: JSON.parse(Buffer.from(access.split(".")[1]!, "base64url").toString()),
    };
    kid = JSON.parse(Buffer.from(access.split(".")[0]!, "base64url").toString()).kid;
    const [stored] = (await server.auth.store.listSigningKeys()).filter((k) => k.kid === kid);
    // Stored sealed: the harness opens it as the key ring does, to forge with the real key.
    const privateJwk = server.auth.secretBox.open(stored!.privateJwk, `signing_key:${kid}`);
    serverKey = createPrivateKey({ key: JSON.parse(privateJwk), format: "jwk" });
    publicJwk = JSON.parse(stored!.publicJwk);
  });
  after(async () => {
    await server.close();
    await new Promise<void>((resolve) => canary.close(() => resolve()));
  });

  it("control: a token forged with the real key and valid claims is accepted (the harness works)", async () => {
    const token = signEd(serverKey, { header: { alg: "EdDSA", typ: "at+jwt", kid }, claims: validClaims() });
    assert.equal((await bearer(token)).status, 200);
  });

  it("alg none in every casing, with and without a signature", async () => {
    for (const alg of ["none", "None", "NONE", "nOnE"]) {
      const unsigned = `${b64({ alg, typ: "at+jwt", kid })}.${b64(validClaims())}`;
      await assertRejected(`${unsigned}.`, `${alg} empty signature`);
      await assertRejected(`${unsigned}.${b64("garbage")}`, `${alg} garbage signature`);
    }
  });

  it("key confusion: HS256 signed with the public key as PEM text and as JWK text", async () => {
    const pem = createPublicKey({ key: publicJwk as never, format: "jwk" })
      .export({ type: "spki", format: "pem" })
      .toString();
    for (const [label, secret] of [
      ["PEM", pem],
      ["JWK", JSON.stringify(publicJwk)],
      ["x", String(publicJwk["x"])],
    ] as const) {
      const data = `${b64({ alg: "HS256", typ: "at+jwt", kid })}.${b64(validClaims())}`;
      const token = `${data}.${createHmac("sha256", secret).update(data).digest("base64url")}`;
      await assertRejected(token, `HS256 with public key as ${label}`);
    }
  });

  it("kid injection and unknown kids", async () => {
    const attacker = generateKeyPairSync("ed25519").privateKey;
    for (const badKid of [
      "../../../../dev/null",
      "' OR '1'='1",
      "/etc/passwd",
      "http://127.0.0.1/",
      "k".repeat(5000),
      "",
      42,
      null,
    ]) {
      const token = signEd(attacker, { header: { alg: "EdDSA", typ: "at+jwt", kid: badKid }, claims: validClaims() });
      await assertRejected(token, `kid ${String(badKid).slice(0, 20)}`);
    }
    const noKid = signEd(serverKey, { header: { alg: "EdDSA", typ: "at+jwt" }, claims: validClaims() });
    await assertRejected(noKid, "missing kid");
  });

  it("jku, x5u, jwk and x5c headers are never fetched or trusted", async () => {
    const attacker = generateKeyPairSync("ed25519");
    const attackerJwk = attacker.publicKey.export({ format: "jwk" });
    const header = {
      alg: "EdDSA",
      typ: "at+jwt",
      kid: "attacker",
      jku: `${canaryUrl}/jwks.json`,
      x5u: `${canaryUrl}/cert.pem`,
      jwk: { ...attackerJwk, kid: "attacker" },
      x5c: ["MIIB"],
    };
    await assertRejected(
      signEd(attacker.privateKey, { header, claims: validClaims() }),
      "self-signed with embedded key",
    );
    await assertRejected(
      signEd(attacker.privateKey, { header: { ...header, kid }, claims: validClaims() }),
      "embedded key with real kid",
    );
    const legit = signEd(serverKey, { header: { ...header, kid }, claims: validClaims() });
    assert.equal((await bearer(legit)).status, 200, "headers are ignored: the real key still decides");
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(canaryHits, 0, "the canary received nothing");
  });

  it("expired, future nbf, future iat, wrong iss, aud, typ, crit", async () => {
    const now = Math.floor(Date.now() / 1000);
    const cases: [string, Forge][] = [
      ["expired", { header: { alg: "EdDSA", typ: "at+jwt", kid }, claims: { ...validClaims(), exp: now - 61 } }],
      ["no exp", { header: { alg: "EdDSA", typ: "at+jwt", kid }, claims: { ...validClaims(), exp: undefined } }],
      [
        "exp string",
        { header: { alg: "EdDSA", typ: "at+jwt", kid }, claims: { ...validClaims(), exp: String(now + 600) } },
      ],
      ["future nbf", { header: { alg: "EdDSA", typ: "at+jwt", kid }, claims: { ...validClaims(), nbf: now + 120 } }],
      ["future iat", { header: { alg: "EdDSA", typ: "at+jwt", kid }, claims: { ...validClaims(), iat: now + 3600 } }],
      ["wrong iss", { header: { alg: "EdDSA", typ: "at+jwt", kid }, claims: { ...validClaims(), iss: "evil" } }],
      ["wrong aud", { header: { alg: "EdDSA", typ: "at+jwt", kid }, claims: { ...validClaims(), aud: "other-api" } }],
      ["typ JWT", { header: { alg: "EdDSA", typ: "JWT", kid }, claims: validClaims() }],
      ["no typ", { header: { alg: "EdDSA", kid }, claims: validClaims() }],
      ["crit", { header: { alg: "EdDSA", typ: "at+jwt", kid, crit: ["exp"] }, claims: validClaims() }],
      ["alg mismatch ES256", { header: { alg: "ES256", typ: "at+jwt", kid }, claims: validClaims() }],
    ];
    for (const [label, forge] of cases) await assertRejected(signEd(serverKey, forge), label);
  });

  it("malformed compact forms: JWE, padding, bad characters, oversize", async () => {
    const token = good.access;
    const [h, p, s] = token.split(".");
    const forms = [
      `${h}.${p}.${s}.x.y`,
      `${h}=.${p}.${s}`,
      `${h}.${p}.${s}=`,
      `${h}.${p}+.${s}`,
      `${h}.${p}.${s!.slice(0, -2)}`,
      `${h}.${p}`,
      `${b64("[1]")}.${p}.${s}`,
      `${h}.${b64("null")}.${s}`,
      `${h}.${p}.${s}`.replace(/.$/, (c) => (c === "A" ? "B" : "A")),
      `${h}.${b64({ ...good.claims, pad: "x".repeat(9000) })}.${s}`,
    ];
    for (const form of forms) await assertRejected(form, form.slice(0, 40));
  });

  it("a refresh token is not a bearer token, and an access token is not a refresh token", async () => {
    await assertRejected(good.cookie, "refresh token as bearer");
    const asCookie = await request(`${server.url}/auth/refresh`, {
      method: "POST",
      json: {},
      headers: { cookie: `${REFRESH_COOKIE}=${good.access}` },
    });
    assert.equal(asCookie.status, 401);
    assert.equal((asCookie.body as { error: string }).error, "invalid_grant");
    const asBody = await request(`${server.url}/auth/refresh`, {
      method: "POST",
      json: { refresh_token: good.access },
    });
    assert.equal(asBody.status, 401);
    assert.equal((asBody.body as { error: string }).error, "invalid_grant");
  });
});
