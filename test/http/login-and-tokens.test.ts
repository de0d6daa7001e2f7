import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { REFRESH_COOKIE, refreshCookieFrom, request, STRONG_PASSWORD } from "../helpers/http.ts";
import { startTestServer, type TestServer } from "../helpers/test-server.ts";

describe("register, login, me, jwks", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  it("registers a user and answers 201 with id and username only", async () => {
    const res = await request(`${server.url}/auth/register`, {
      method: "POST",
      json: { username: "alice", password: STRONG_PASSWORD },
    });
    assert.equal(res.status, 201);
    const body = res.body as { user: { id: string; username: string } };
    assert.deepEqual(Object.keys(body.user).sort(), ["id", "username"]);
    assert.equal(body.user.username, "alice");
  });

  it("refuses a taken username, case-insensitively, with 409 username_taken", async () => {
    const res = await request(`${server.url}/auth/register`, {
      method: "POST",
      json: { username: "ALICE", password: STRONG_PASSWORD },
    });
    assert.equal(res.status, 409);
    assert.equal((res.body as { error: string }).error, "username_taken");
  });

  it("logs in: access token in the body, refresh token only in an HttpOnly Secure SameSite=Strict cookie", async () => {
    const res = await request(`${server.url}/auth/login`, {
      method: "POST",
      json: { username: "alice", password: STRONG_PASSWORD },
    });
    assert.equal(res.status, 200);
    const body = res.body as Record<string, unknown>;
    assert.equal(body["token_type"], "Bearer");
    assert.equal(body["expires_in"], 900);
    assert.equal(typeof body["access_token"], "string");
    assert.equal(body["refresh_token"], undefined);
    assert.equal(res.headers.get("cache-control"), "no-store");
    const [cookie] = res.headers.getSetCookie();
    assert.ok(cookie);
    assert.match(cookie, /^__Secure-gatehouse_refresh=[A-Za-z0-9_-]{43};/);
    assert.match(cookie, /; HttpOnly/);
    assert.match(cookie, /; Secure/);
    assert.match(cookie, /; SameSite=Strict/);
    assert.match(cookie, /; Path=\/auth;/);
    assert.doesNotMatch(cookie, /Domain=/i);
  });

  it("issues an at+jwt EdDSA access token with the contract's claims and a kid from the JWKS", async () => {
    const login = await request(`${server.url}/auth/login`, {
      method: "POST",
      json: { username: "alice", password: STRONG_PASSWORD },
    });
    const token = (login.body as { access_token: string }).access_token;
    const [h, p] = token.split(".");
    const header = JSON.parse(Buffer.from(h!, "base64url").toString());
    const claims = JSON.parse(Buffer.from(p!, "base64url").toString());
    assert.equal(header.typ, "at+jwt");
    assert.equal(header.alg, "EdDSA");
    for (const claim of ["iss", "aud", "sub", "sid", "iat", "exp", "jti"])
      assert.ok(claim in claims, `missing ${claim}`);
    assert.equal(claims.exp - claims.iat, 900);

    const jwks = await request(`${server.url}/.well-known/jwks.json`);
    assert.equal(jwks.status, 200);
    const keys = (jwks.body as { keys: Record<string, unknown>[] }).keys;
    const key = keys.find((k) => k["kid"] === header.kid);
    assert.ok(key, "signing kid is published");
    assert.equal(key["alg"], "EdDSA");
    assert.equal(key["use"], "sig");
    for (const k of keys) assert.equal(k["d"], undefined, "no private member in JWKS");

    const me = await request(`${server.url}/auth/me`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(me.status, 200);
    const meBody = me.body as { user: { id: string; username: string }; session_id: string };
    assert.equal(meBody.user.username, "alice");
    assert.equal(meBody.session_id, claims.sid);
    assert.equal(meBody.user.id, claims.sub);
  });

  it("answers wrong password and unknown user with the same 401 invalid_credentials", async () => {
    const wrong = await request(`${server.url}/auth/login`, {
      method: "POST",
      json: { username: "alice", password: "wrong password but long" },
    });
    const unknown = await request(`${server.url}/auth/login`, {
      method: "POST",
      json: { username: "nobody", password: "wrong password but long" },
    });
    assert.equal(wrong.status, 401);
    assert.equal(unknown.status, 401);
    assert.deepEqual(wrong.body, unknown.body);
    assert.equal((wrong.body as { error: string }).error, "invalid_credentials");
  });

  it("refuses weak passwords with 400 invalid_password naming the rule", async () => {
    const cases: [string, RegExp][] = [
      ["short", /at least 15/],
      ["bobbybobbybobby-1234", /username/i],
    ];
    for (const [password, rule] of cases) {
      const res = await request(`${server.url}/auth/register`, {
        method: "POST",
        json: { username: "bobbybobbybobby", password },
      });
      assert.equal(res.status, 400, password);
      assert.equal((res.body as { error: string }).error, "invalid_password");
      assert.match((res.body as { message: string }).message, rule);
    }
  });

  it("gives the cookie to refresh and returns a new access token and a new cookie", async () => {
    const login = await request(`${server.url}/auth/login`, {
      method: "POST",
      json: { username: "alice", password: STRONG_PASSWORD },
    });
    const cookie = refreshCookieFrom(login.headers);
    const res = await request(`${server.url}/auth/refresh`, {
      method: "POST",
      json: {},
      headers: { cookie: `${REFRESH_COOKIE}=${cookie}` },
    });
    assert.equal(res.status, 200);
    const next = refreshCookieFrom(res.headers);
    assert.ok(next);
    assert.notEqual(next, cookie);
    assert.equal(res.headers.get("cache-control"), "no-store");
    assert.equal(typeof (res.body as { access_token: string }).access_token, "string");
  });

  it("lets native clients take and return the refresh token in the body", async () => {
    const login = await request(`${server.url}/auth/login`, {
      method: "POST",
      json: { username: "alice", password: STRONG_PASSWORD, token_transport: "body" },
    });
    assert.equal(login.status, 200);
    assert.equal(login.headers.getSetCookie().length, 0);
    const refreshToken = (login.body as { refresh_token: string }).refresh_token;
    assert.match(refreshToken, /^[A-Za-z0-9_-]{43}$/);
    const res = await request(`${server.url}/auth/refresh`, { method: "POST", json: { refresh_token: refreshToken } });
    assert.equal(res.status, 200);
    assert.notEqual((res.body as { refresh_token: string }).refresh_token, refreshToken);
  });

  it("closes registration when configured: 403 registration_closed", async () => {
    const closed = await startTestServer({ registrationOpen: false });
    try {
      const res = await request(`${closed.url}/auth/register`, {
        method: "POST",
        json: { username: "carol", password: STRONG_PASSWORD },
      });
      assert.equal(res.status, 403);
      assert.equal((res.body as { error: string }).error, "registration_closed");
    } finally {
      await closed.close();
    }
  });
});
