import assert from "node:assert/strict";
import { generateKeyPairSync, sign } from "node:crypto";
import type { Server } from "node:http";
import { after, before, describe, it } from "node:test";
import express from "express";
import { createResourceServer } from "../../src/index.ts";
import { listen } from "../../src/server/start-server.ts";
import { request, STRONG_PASSWORD } from "../helpers/http.ts";
import { startTestServer, type TestServer } from "../helpers/test-server.ts";

describe("resource server without a database, verifying by JWKS URL", () => {
  let issuer: TestServer;
  let api: Server;
  let apiUrl: string;
  let jwksFetches = 0;

  before(async () => {
    issuer = await startTestServer();
    const countingFetch: typeof fetch = (input, init) => {
      jwksFetches++;
      return fetch(input, init);
    };
    const gate = createResourceServer({
      jwksUrl: `${issuer.url}/.well-known/jwks.json`,
      issuer: "gatehouse",
      audience: "gatehouse",
      cooldownMs: 60_000,
      fetch: countingFetch,
    });
    const app = express();
    app.get("/orders", gate.requireAuth(), (req, res) => res.json({ user: req.auth!.userId }));
    ({ server: api, url: apiUrl } = await listen(app, 0, "127.0.0.1"));
    await request(`${issuer.url}/auth/register`, {
      method: "POST",
      json: { username: "remote", password: STRONG_PASSWORD },
    });
  });
  after(async () => {
    api.closeAllConnections();
    await new Promise((resolve) => api.close(resolve));
    await issuer.close();
  });

  it("accepts a token issued by the Gatehouse server and rejects forgeries, fetching the JWKS once", async () => {
    const login = await request(`${issuer.url}/auth/login`, {
      method: "POST",
      json: { username: "remote", password: STRONG_PASSWORD },
    });
    const token = (login.body as { access_token: string }).access_token;
    for (let i = 0; i < 5; i++) {
      const res = await request(`${apiUrl}/orders`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(res.status, 200, res.text);
    }
    assert.equal(jwksFetches, 1, "keys are cached");

    const attacker = generateKeyPairSync("ed25519").privateKey;
    const [h, p] = token.split(".");
    const forged = `${h}.${p}.${sign(null, Buffer.from(`${h}.${p}`), attacker).toString("base64url")}`;
    const res = await request(`${apiUrl}/orders`, { headers: { authorization: `Bearer ${forged}` } });
    assert.equal(res.status, 401);
    assert.match(res.headers.get("www-authenticate") ?? "", /invalid_token/);

    const unknownKid = `${Buffer.from(JSON.stringify({ alg: "EdDSA", typ: "at+jwt", kid: "unknown" })).toString("base64url")}.${p}.AAAA`;
    assert.equal(
      (await request(`${apiUrl}/orders`, { headers: { authorization: `Bearer ${unknownKid}` } })).status,
      401,
    );
    assert.equal(
      (await request(`${apiUrl}/orders`, { headers: { authorization: `Bearer ${unknownKid}` } })).status,
      401,
    );
    assert.ok(jwksFetches <= 2, `unknown kids refetch at most once per cooldown (fetches: ${jwksFetches})`);
    assert.equal((await request(`${apiUrl}/orders`)).status, 401);
  });
});
