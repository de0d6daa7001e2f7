import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { request as httpRequest, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import express from "express";
import { createGatehouse, type Gatehouse } from "../../src/index.ts";
import { createLogger } from "../../src/logging/logger.ts";
import { listen } from "../../src/server/start-server.ts";
import { type JsonResponse, REFRESH_COOKIE, refreshCookieFrom, request, STRONG_PASSWORD } from "../helpers/http.ts";
import { startTestServer, type TestServer } from "../helpers/test-server.ts";

/**
 * RFC 6750 §3.1: a request that uses more than one method of including an access token
 * (Authorization header, `access_token` query parameter, `access_token` body field), or
 * repeats one, is `400 invalid_request` — never served with whichever one a layer happens to read.
 */
function assertTwoPlaces(res: JsonResponse, what: string): void {
  assert.equal(res.status, 400, `${what}: ${res.status} ${res.text}`);
  assert.deepEqual(Object.keys(res.body as object).sort(), ["error", "message"], what);
  assert.equal((res.body as { error: string }).error, "invalid_request", what);
  assert.match(res.headers.get("www-authenticate") ?? "", /^Bearer realm="gatehouse", error="invalid_request"/, what);
}

/** Sends the Authorization header twice, which fetch cannot do. */
function twoAuthorizationHeaders(url: string, first: string, second: string): Promise<JsonResponse> {
  return new Promise((resolve, reject) => {
    const headers = ["host", new URL(url).host, "authorization", first, "authorization", second];
    const req = httpRequest(url, { headers }, (res) => {
      let text = "";
      res.on("data", (chunk) => (text += chunk));
      res.on("end", () => {
        const headers = new Headers();
        for (const [name, value] of Object.entries(res.headers)) {
          if (typeof value === "string") headers.set(name, value);
        }
        let body: unknown = null;
        try {
          body = JSON.parse(text);
        } catch {
          body = text;
        }
        resolve({ status: res.statusCode ?? 0, headers, body, text });
      });
    });
    req.on("error", reject);
    req.end();
  });
}

describe("an access token in more than one place, on Gatehouse's own routes and requireAuth()", () => {
  let server: TestServer;
  let token: string;
  before(async () => {
    server = await startTestServer();
    const credentials = { username: "ivan", password: STRONG_PASSWORD };
    await request(`${server.url}/auth/register`, { method: "POST", json: credentials });
    const login = await request(`${server.url}/auth/login`, { method: "POST", json: credentials });
    token = (login.body as { access_token: string }).access_token;
  });
  after(() => server.close());

  const bearer = () => ({ authorization: `Bearer ${token}` });

  it("header and query parameter: 400 on GET /auth/me, GET /auth/sessions and a requireAuth() route", async () => {
    for (const path of ["/auth/me", "/auth/sessions", "/api/hello"]) {
      assertTwoPlaces(await request(`${server.url}${path}?access_token=${token}`, { headers: bearer() }), path);
      const alone = await request(`${server.url}${path}`, { headers: bearer() });
      assert.equal(alone.status, 200, `${path} with the header alone`);
    }
  });

  it("header and body field: 400, and the route does nothing", async () => {
    const post = (path: string, json: unknown, headers: Record<string, string> = {}) =>
      request(`${server.url}/auth/${path}`, { method: "POST", json, headers: { ...bearer(), ...headers } });
    const res = await post("logout-all", { access_token: token });
    assertTwoPlaces(res, "POST /auth/logout-all");
    const logout = await post(`logout?access_token=${token}`, {});
    assertTwoPlaces(logout, "POST /auth/logout");
    const me = await request(`${server.url}/auth/me`, { headers: bearer() });
    assert.equal(me.status, 200, "the session was not ended");

    const login = await post("login", { username: "ivan", password: STRONG_PASSWORD });
    const cookie = `${REFRESH_COOKIE}=${refreshCookieFrom(login.headers)}`;
    const withCookie = await post("logout?access_token=x", {}, { cookie });
    assertTwoPlaces(withCookie, "POST /auth/logout with the cookie too");
    const refresh = await request(`${server.url}/auth/refresh`, { method: "POST", json: {}, headers: { cookie } });
    assert.equal(refresh.status, 200, "the cookie's session was not ended either");
  });

  it("one place repeated: two Authorization headers, or the query parameter twice", async () => {
    const twice = (path: string, second: string) =>
      twoAuthorizationHeaders(`${server.url}${path}`, `Bearer ${token}`, second);
    assertTwoPlaces(await twice("/auth/me", `Bearer ${token}`), "two headers");
    assertTwoPlaces(await twice("/api/hello", "Bearer x.y.z"), "two headers");
    assertTwoPlaces(await request(`${server.url}/auth/me?access_token=a&access_token=b`), "query twice");
  });

  it("a token only in the query is still not accepted (401, send the header)", async () => {
    const res = await request(`${server.url}/auth/me?access_token=${token}`);
    assert.equal(res.status, 401, res.text);
  });
});

describe("requireAuth() in an app that parses form and JSON bodies itself", () => {
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-places-"));
  let auth: Gatehouse;
  let server: Server;
  let url: string;
  let token: string;
  before(async () => {
    auth = await createGatehouse({
      database: `sqlite:${join(dir, "app.db")}`,
      logger: createLogger({ level: "silent" }),
    });
    const app = express();
    app.use("/auth", auth.router());
    app.use(express.urlencoded({ extended: false }), express.json());
    app.post("/api/orders", auth.requireAuth(), (req, res) => res.json({ user: req.auth!.userId }));
    ({ server, url } = await listen(app, 0, "127.0.0.1"));
    const credentials = { username: "judy", password: STRONG_PASSWORD };
    await request(`${url}/auth/register`, { method: "POST", json: credentials });
    const login = await request(`${url}/auth/login`, { method: "POST", json: credentials });
    token = (login.body as { access_token: string }).access_token;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await auth.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("header plus a form-encoded access_token is 400; header alone is served", async () => {
    const form = (body: string) =>
      request(`${url}/api/orders`, {
        method: "POST",
        body,
        headers: { authorization: `Bearer ${token}`, "content-type": "application/x-www-form-urlencoded" },
      });
    assertTwoPlaces(await form(`item=1&access_token=${token}`), "form body");
    assert.equal((await form("item=1")).status, 200);
  });

  it("header plus a JSON access_token is 400", async () => {
    const res = await request(`${url}/api/orders`, {
      method: "POST",
      json: { access_token: token },
      headers: { authorization: `Bearer ${token}` },
    });
    assertTwoPlaces(res, "JSON body");
  });
});
