import assert from "node:assert/strict";
import { request as rawRequest } from "node:http";
import { after, before, describe, it } from "node:test";
import { REFRESH_COOKIE, request, STRONG_PASSWORD } from "../helpers/http.ts";
import { startTestServer, type TestServer } from "../helpers/test-server.ts";

function assertErrorShape(res: { status: number; body: unknown; headers: Headers }, status: number, code: string) {
  assert.equal(res.status, status, JSON.stringify(res.body));
  const body = res.body as Record<string, unknown>;
  assert.deepEqual(Object.keys(body).sort(), ["error", "message"]);
  assert.equal(body["error"], code);
  assert.equal(typeof body["message"], "string");
  assert.match(res.headers.get("content-type") ?? "", /application\/json/);
}

/** Raw HTTP for what fetch refuses to send (huge headers). */
function rawStatus(url: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = rawRequest(`${url}/auth/me`, { headers }, (res) => {
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("bad input always gets a 4xx JSON error, never a 5xx", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  it("415 for POST without a JSON content type", async () => {
    for (const type of [
      undefined,
      "text/plain",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=x",
    ]) {
      const headers: Record<string, string> = type ? { "content-type": type } : {};
      const res = await request(`${server.url}/auth/login`, { method: "POST", body: "username=a&password=b", headers });
      assertErrorShape(res, 415, "unsupported_media_type");
    }
  });

  it("413 for a body over 16 KiB", async () => {
    const res = await request(`${server.url}/auth/login`, {
      method: "POST",
      json: { username: "a", password: "x".repeat(20_000) },
    });
    assertErrorShape(res, 413, "payload_too_large");
  });

  it("400 invalid_request for malformed JSON, wrong types, missing or unknown fields, non-object bodies", async () => {
    const bodies = [
      "{",
      '{"username": "a", "password": }',
      "[]",
      '"just a string"',
      "null",
      "42",
      JSON.stringify({ username: 1, password: "x" }),
      JSON.stringify({ username: "a" }),
      JSON.stringify({ username: "a", password: "b", admin: true }),
      JSON.stringify({ username: ["a"], password: { $gt: "" } }),
      '{"username": "a", "password": "b", "__proto__": {"isAdmin": true}}',
      '{"username": "a", "password": "b", "constructor": {"prototype": {"isAdmin": true}}}',
    ];
    for (const body of bodies) {
      const res = await request(`${server.url}/auth/login`, {
        method: "POST",
        body,
        headers: { "content-type": "application/json" },
      });
      assertErrorShape(res, 400, "invalid_request");
    }
  });

  it("400 for usernames outside the rules at registration", async () => {
    for (const username of ["ab", "has space", "x".repeat(65), "semi;colon", "\u0000nul"]) {
      const res = await request(`${server.url}/auth/register`, {
        method: "POST",
        json: { username, password: STRONG_PASSWORD },
      });
      assertErrorShape(res, 400, "invalid_request");
    }
  });

  it("401 invalid_token for malformed bearer headers, with WWW-Authenticate", async () => {
    for (const authorization of [
      "Basic abc",
      "Bearer",
      "Bearer ",
      "Bearer a b",
      "Bearer ***",
      "bearer x.y.z",
      "Token abc",
    ]) {
      const res = await request(`${server.url}/auth/me`, { headers: { authorization } });
      assertErrorShape(res, 401, "invalid_token");
      assert.match(res.headers.get("www-authenticate") ?? "", /^Bearer realm="gatehouse"/);
    }
  });

  it("431 JSON for huge headers, and no crash afterwards", async () => {
    const res = await rawStatus(server.url, { "x-big": "a".repeat(20_000) });
    assert.equal(res.status, 431);
    assert.equal(JSON.parse(res.body).error, "invalid_request");
    const after = await request(`${server.url}/.well-known/jwks.json`);
    assert.equal(after.status, 200);
  });

  it("404 JSON for unknown routes and a 64+ character session id", async () => {
    assertErrorShape(await request(`${server.url}/auth/nope`), 404, "not_found");
    assertErrorShape(await request(`${server.url}/api/nope`), 404, "not_found");
  });

  it("a 2 KB username or a huge Unicode password is refused cleanly", async () => {
    const res = await request(`${server.url}/auth/login`, {
      method: "POST",
      json: { username: "u".repeat(2000), password: "p" },
    });
    assertErrorShape(res, 400, "invalid_request");
    const uni = await request(`${server.url}/auth/register`, {
      method: "POST",
      json: { username: "unicoder", password: "\u{1F600}".repeat(300) },
    });
    assertErrorShape(uni, 400, "invalid_password");
  });
});

describe("database down", () => {
  it("answers 503 unavailable, issues nothing and consumes nothing", async () => {
    const server = await startTestServer();
    try {
      const reg = await request(`${server.url}/auth/register`, {
        method: "POST",
        json: { username: "dora", password: STRONG_PASSWORD },
      });
      assert.equal(reg.status, 201);
      await server.auth.store.close();
      const login = await request(`${server.url}/auth/login`, {
        method: "POST",
        json: { username: "dora", password: STRONG_PASSWORD },
      });
      assertErrorShape(login, 503, "unavailable");
      assert.equal(login.headers.getSetCookie().length, 0, "no cookie issued");
      const refresh = await request(`${server.url}/auth/refresh`, {
        method: "POST",
        json: {},
        headers: { cookie: `${REFRESH_COOKIE}=${"A".repeat(43)}` },
      });
      assertErrorShape(refresh, 503, "unavailable");
    } finally {
      await server.close();
    }
  });
});
