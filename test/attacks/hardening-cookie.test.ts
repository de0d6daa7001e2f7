import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import express from "express";
import { createGatehouse, type Gatehouse } from "../../src/index.ts";
import { createLogger } from "../../src/logging/logger.ts";
import { listen } from "../../src/server/start-server.ts";
import { type JsonResponse, request, STRONG_PASSWORD } from "../helpers/http.ts";
import { startTestServer, type TestServer } from "../helpers/test-server.ts";

/** One Set-Cookie line, taken apart: name, value and attributes (names lower-cased). */
interface SetCookie {
  name: string;
  value: string;
  attributes: [string, string][];
  line: string;
}

function setCookies(res: JsonResponse): SetCookie[] {
  return res.headers.getSetCookie().map((line) => {
    const [pair = "", ...rest] = line.split(";");
    const eq = pair.indexOf("=");
    const attributes = rest.map((part): [string, string] => {
      const at = part.indexOf("=");
      if (at === -1) return [part.trim().toLowerCase(), ""];
      return [part.slice(0, at).trim().toLowerCase(), part.slice(at + 1).trim()];
    });
    return { name: pair.slice(0, eq).trim(), value: pair.slice(eq + 1).trim(), attributes, line };
  });
}

function onlyCookie(res: JsonResponse): SetCookie {
  const cookies = setCookies(res);
  assert.equal(cookies.length, 1, `expected one Set-Cookie, got ${JSON.stringify(cookies.map((c) => c.line))}`);
  return cookies[0]!;
}

const attribute = (cookie: SetCookie, name: string) =>
  cookie.attributes.filter(([key]) => key === name).map(([, value]) => value);
const register = (base: string, username: string) =>
  request(`${base}/auth/register`, { method: "POST", json: { username, password: STRONG_PASSWORD } });
const isCleared = (cookie: SetCookie) => cookie.value === "" && attribute(cookie, "max-age")[0] === "0";

describe("the refresh token reaches a browser only as the cookie", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
    await register(server.url, "bea");
  });
  after(() => server.close());

  const credentials = { username: "bea", password: STRONG_PASSWORD };
  const post = (path: string, json: unknown, cookie?: string) =>
    request(`${server.url}/auth/${path}`, { method: "POST", json, headers: cookie ? { cookie } : {} });
  /** A cookie login: the Cookie header a browser would send back afterwards. */
  const cookieLogin = async () => {
    const cookie = onlyCookie(await post("login", credentials));
    return `${cookie.name}=${cookie.value}`;
  };

  it("a cookie refresh that asks for the body still answers with the cookie", async () => {
    const res = await post("refresh", { token_transport: "body" }, await cookieLogin());
    assert.equal(res.status, 200, res.text);
    assert.equal((res.body as Record<string, unknown>)["refresh_token"], undefined, res.text);
    assert.match(onlyCookie(res).value, /^[A-Za-z0-9_-]{43}$/);
  });

  it("a login that came with the cookie answers with the cookie, whatever the body asks", async () => {
    const res = await post("login", { ...credentials, token_transport: "body" }, await cookieLogin());
    assert.equal(res.status, 200, res.text);
    assert.equal((res.body as Record<string, unknown>)["refresh_token"], undefined, res.text);
    assert.match(onlyCookie(res).value, /^[A-Za-z0-9_-]{43}$/);
  });

  it("a refresh token in the body beside the cookie is refused, and neither token is spent", async () => {
    const cookie = await cookieLogin();
    const native = await post("login", { ...credentials, token_transport: "body" });
    const bodyToken = (native.body as { refresh_token: string }).refresh_token;
    assert.match(bodyToken, /^[A-Za-z0-9_-]{43}$/, "a login without the cookie may use the body (native clients)");
    assert.equal(native.headers.getSetCookie().length, 0);

    const both = await post("refresh", { refresh_token: bodyToken }, cookie);
    assert.equal(both.status, 400, both.text);
    assert.equal((both.body as { error: string }).error, "invalid_request");
    assert.ok(!both.text.includes(bodyToken));

    assert.equal((await post("refresh", {}, cookie)).status, 200, "the cookie's token still works");
    const bodyRefresh = await post("refresh", { refresh_token: bodyToken });
    assert.equal(bodyRefresh.status, 200, "the body token still works");
    assert.match((bodyRefresh.body as { refresh_token: string }).refresh_token, /^[A-Za-z0-9_-]{43}$/);
  });
});

describe("cookie tossing: a prefixed name, and a name sent twice is refused", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
    await register(server.url, "cleo");
    await register(server.url, "mallory");
  });
  after(() => server.close());

  const loginAs = async (username: string) =>
    onlyCookie(
      await request(`${server.url}/auth/login`, { method: "POST", json: { username, password: STRONG_PASSWORD } }),
    );
  const refreshWith = (cookie: string) =>
    request(`${server.url}/auth/refresh`, { method: "POST", json: {}, headers: { cookie } });

  it("the Secure cookie is named __Secure-gatehouse_refresh", async () => {
    const cookie = await loginAs("cleo");
    assert.equal(cookie.name, "__Secure-gatehouse_refresh");
    assert.deepEqual(attribute(cookie, "secure"), [""]);
    assert.deepEqual(attribute(cookie, "httponly"), [""]);
    assert.deepEqual(attribute(cookie, "samesite"), ["Strict"]);
    assert.deepEqual(attribute(cookie, "path"), ["/auth"]);
    assert.deepEqual(attribute(cookie, "domain"), []);
  });

  it("the same name twice is 401 invalid_grant with the cookie cleared, and neither token is spent", async () => {
    const victim = await loginAs("cleo");
    const tossed = await loginAs("mallory");
    for (const header of [
      `${tossed.name}=${tossed.value}; ${victim.name}=${victim.value}`,
      `${victim.name}=${victim.value}; ${tossed.name}=${tossed.value}`,
      `${victim.name}=${victim.value}; ${victim.name}=${victim.value}`,
      `${victim.name}=${victim.value};${victim.name}=`,
    ]) {
      const res = await refreshWith(header);
      assert.equal(res.status, 401, `${header}: ${res.text}`);
      assert.equal((res.body as { error: string }).error, "invalid_grant");
      const cleared = onlyCookie(res);
      assert.equal(cleared.name, "__Secure-gatehouse_refresh");
      assert.ok(isCleared(cleared), cleared.line);
    }
    const logout = await request(`${server.url}/auth/logout`, {
      method: "POST",
      json: {},
      headers: { cookie: `${tossed.name}=${tossed.value}; ${victim.name}=${victim.value}` },
    });
    assert.equal(logout.status, 401, logout.text);
    assert.equal((logout.body as { error: string }).error, "invalid_grant");
    assert.ok(isCleared(onlyCookie(logout)));

    assert.equal((await refreshWith(`${victim.name}=${victim.value}`)).status, 200, "the victim's token was not spent");
    assert.equal((await refreshWith(`${tossed.name}=${tossed.value}`)).status, 200, "nor the other one");
  });

  it("a Secure server does not read the unprefixed name (any subdomain, even over http, can set that)", async () => {
    const cookie = await loginAs("cleo");
    const res = await refreshWith(`gatehouse_refresh=${cookie.value}`);
    assert.equal(res.status, 401, res.text);
    assert.equal((await refreshWith(`${cookie.name}=${cookie.value}`)).status, 200, "the token was not spent");
  });
});

describe("cookie names without Secure, and configured names", () => {
  it("is gatehouse_refresh without Secure (a __Secure- cookie must be Secure), __Secure-<name> with it", async () => {
    for (const [cookie, expected] of [
      [{ secure: false }, "gatehouse_refresh"],
      [{ name: "sid" }, "__Secure-sid"],
      [{ name: "sid", secure: false }, "sid"],
    ] as const) {
      const server = await startTestServer({ cookie });
      try {
        await register(server.url, "dana");
        const login = await request(`${server.url}/auth/login`, {
          method: "POST",
          json: { username: "dana", password: STRONG_PASSWORD },
        });
        const set = onlyCookie(login);
        assert.equal(set.name, expected, JSON.stringify(cookie));
        assert.deepEqual(attribute(set, "secure"), cookie.secure === false ? [] : [""]);
        const refresh = await request(`${server.url}/auth/refresh`, {
          method: "POST",
          json: {},
          headers: { cookie: `${set.name}=${set.value}` },
        });
        assert.equal(refresh.status, 200, refresh.text);
        assert.equal(onlyCookie(refresh).name, expected);
      } finally {
        await server.close();
      }
    }
  });
});

describe("the cookie Path is never taken unescaped from the request", () => {
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-tenant-"));
  let auth: Gatehouse;
  let server: Server;
  let url: string;
  before(async () => {
    auth = await createGatehouse({
      database: `sqlite:${join(dir, "app.db")}`,
      logger: createLogger({ level: "silent" }),
    });
    const app = express();
    app.use("/t/:tenant/auth", auth.router());
    ({ server, url } = await listen(app, 0, "127.0.0.1"));
    await register(`${url}/t/acme`, "erin");
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await auth.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** What RFC 6265 lets a Path carry safely: URL path characters, no `;` (ends the attribute) or `,`. */
  const SAFE_PATH = /^\/[A-Za-z0-9\-._~!$&'()*+=:@/%]*$/;

  const loginUnder = async (tenant: string) => {
    const res = await request(`${url}/t/${tenant}/auth/login`, {
      method: "POST",
      json: { username: "erin", password: STRONG_PASSWORD },
    });
    assert.equal(res.status, 200, `${tenant}: ${res.text}`);
    return onlyCookie(res);
  };

  it("an ordinary tenant gets its own mount path", async () => {
    assert.deepEqual(attribute(await loginUnder("acme"), "path"), ["/t/acme/auth"]);
  });

  it("attributes smuggled in through the path parameter do not become attributes", async () => {
    for (const tenant of [
      "x;Domain=evil.example;SameSite=None",
      "x;%20Domain=evil.example",
      "x%3BDomain=evil.example%3BPath=%2F",
      "x,Domain=evil.example",
      "x;Secure;HttpOnly;Max-Age=99999999",
    ]) {
      for (const cookie of [await loginUnder(tenant)]) {
        assert.deepEqual(attribute(cookie, "domain"), [], `${tenant}: ${cookie.line}`);
        assert.deepEqual(attribute(cookie, "samesite"), ["Strict"], `${tenant}: ${cookie.line}`);
        assert.equal(attribute(cookie, "max-age").length, 1, `${tenant}: ${cookie.line}`);
        const paths = attribute(cookie, "path");
        assert.equal(paths.length, 1, `${tenant}: ${cookie.line}`);
        assert.match(paths[0]!, SAFE_PATH, `${tenant}: ${cookie.line}`);
        assert.ok(paths[0]!.endsWith("/auth"), `${tenant}: ${cookie.line}`);
      }
      const logout = await request(`${url}/t/${tenant}/auth/logout`, { method: "POST", json: {} });
      const cleared = onlyCookie(logout);
      assert.deepEqual(attribute(cleared, "domain"), [], cleared.line);
      assert.match(attribute(cleared, "path")[0] ?? "", SAFE_PATH, cleared.line);
    }
  });
});
