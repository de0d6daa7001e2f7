import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { REFRESH_COOKIE, refreshCookieFrom, request, seenBodies, STRONG_PASSWORD } from "../helpers/http.ts";
import { startTestServer, type TestServer } from "../helpers/test-server.ts";

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

describe("CSRF on cookie-authenticated POSTs", () => {
  let server: TestServer;
  let cookie: string;
  before(async () => {
    server = await startTestServer({ allowedOrigins: ["https://app.example.com"] });
    await request(`${server.url}/auth/register`, {
      method: "POST",
      json: { username: "csrf-user", password: STRONG_PASSWORD },
    });
    const login = await request(`${server.url}/auth/login`, {
      method: "POST",
      json: { username: "csrf-user", password: STRONG_PASSWORD },
    });
    cookie = refreshCookieFrom(login.headers)!;
  });
  after(() => server.close());

  const withCookie = (headers: Record<string, string>) => ({ cookie: `${REFRESH_COOKIE}=${cookie}`, ...headers });

  it("refuses refresh from a foreign Origin with 403 forbidden_origin, consuming nothing", async () => {
    const res = await request(`${server.url}/auth/refresh`, {
      method: "POST",
      json: {},
      headers: withCookie({ origin: "https://evil.example" }),
    });
    assert.equal(res.status, 403);
    assert.equal((res.body as { error: string }).error, "forbidden_origin");
    const logout = await request(`${server.url}/auth/logout`, {
      method: "POST",
      json: {},
      headers: withCookie({ origin: "https://evil.example" }),
    });
    assert.equal(logout.status, 403);
  });

  it("refuses Sec-Fetch-Site: cross-site without Origin", async () => {
    const res = await request(`${server.url}/auth/refresh`, {
      method: "POST",
      json: {},
      headers: withCookie({ "sec-fetch-site": "cross-site" }),
    });
    assert.equal(res.status, 403);
  });

  it("refuses a form-style POST (no JSON content type) and GET", async () => {
    const form = await request(`${server.url}/auth/refresh`, {
      method: "POST",
      body: "x=1",
      headers: withCookie({ "content-type": "application/x-www-form-urlencoded", origin: server.url }),
    });
    assert.equal(form.status, 415);
    const get = await request(`${server.url}/auth/refresh`, { headers: withCookie({}) });
    assert.equal(get.status, 404);
  });

  it("accepts its own origin and a configured allowed origin (the token was not consumed above)", async () => {
    const own = await request(`${server.url}/auth/refresh`, {
      method: "POST",
      json: {},
      headers: withCookie({ origin: server.url, "sec-fetch-site": "same-origin" }),
    });
    assert.equal(own.status, 200, own.text);
    cookie = refreshCookieFrom(own.headers)!;
    const allowed = await request(`${server.url}/auth/refresh`, {
      method: "POST",
      json: {},
      headers: withCookie({ origin: "https://app.example.com" }),
    });
    assert.equal(allowed.status, 200, allowed.text);
  });
});

describe("user enumeration through login", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({
      loginThrottle: { perAccountAndIp: { attempts: 10_000 }, perIp: { attempts: 10_000 } },
      loginRate: { perIp: { attempts: 10_000 }, perAccount: { attempts: 10_000 } },
    });
    await request(`${server.url}/auth/register`, {
      method: "POST",
      json: { username: "known-user", password: STRONG_PASSWORD },
    });
  });
  after(() => server.close());

  it("unknown user and wrong password: same status, body and headers, and both pay for a password hash", async () => {
    const attempt = async (username: string | undefined) => {
      const started = performance.now();
      const res = await request(`${server.url}/auth/login`, {
        method: "POST",
        json: { username, password: "definitely not the password" },
      });
      return { res, ms: performance.now() - started };
    };
    // Warm both paths (the dummy hash is computed lazily once).
    await attempt("known-user");
    await attempt("unknown-user");
    const known: number[] = [];
    const unknown: number[] = [];
    const unhashed: number[] = [];
    let first: Awaited<ReturnType<typeof attempt>>["res"] | undefined;
    let second: typeof first;
    for (let i = 0; i < 30; i++) {
      const a = await attempt("known-user");
      const b = await attempt(`unknown-${i}`);
      const c = await attempt(undefined); // refused before any hashing: the control
      assert.equal(c.res.status, 400);
      known.push(a.ms);
      unknown.push(b.ms);
      unhashed.push(c.ms);
      first = a.res;
      second = b.res;
    }
    assert.equal(first!.status, 401);
    assert.equal(second!.status, 401);
    assert.deepEqual(first!.body, second!.body);
    const headerNames = (h: Headers) => [...h.keys()].filter((k) => k !== "date" && k !== "content-length").sort();
    assert.deepEqual(headerNames(first!.headers), headerNames(second!.headers));
    for (const name of headerNames(first!.headers)) {
      if (name === "etag") continue;
      assert.equal(first!.headers.get(name), second!.headers.get(name), name);
    }
    // Ratios of medians, not milliseconds: a loaded machine slows every request alike. An
    // unknown user that skipped the hash would answer about as fast as the control.
    const [knownMs, unknownMs, unhashedMs] = [median(known), median(unknown), median(unhashed)];
    const medians =
      `medians: known ${knownMs.toFixed(1)} ms, unknown ${unknownMs.toFixed(1)} ms, ` +
      `no hash ${unhashedMs.toFixed(1)} ms`;
    assert.ok(Math.min(knownMs, unknownMs) > Math.max(knownMs, unknownMs) / 2, medians);
    assert.ok(unhashedMs < Math.min(knownMs, unknownMs) / 2, `the control is not faster: ${medians}`);
  });
});

describe("brute force", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({
      loginThrottle: { perAccountAndIp: { attempts: 5, windowSeconds: 60, blockSeconds: 60 } },
    });
    await request(`${server.url}/auth/register`, {
      method: "POST",
      json: { username: "target", password: STRONG_PASSWORD },
    });
  });
  after(() => server.close());

  it("reaches 429 too_many_requests with Retry-After, and the right password is then refused too", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      const res = await request(`${server.url}/auth/login`, {
        method: "POST",
        json: { username: "target", password: `guess number ${i} guess` },
      });
      statuses.push(res.status);
      if (res.status === 429) {
        assert.equal((res.body as { error: string }).error, "too_many_requests");
        assert.ok(Number(res.headers.get("retry-after")) > 0);
      }
    }
    assert.deepEqual(statuses.slice(0, 5), [401, 401, 401, 401, 401]);
    assert.ok(
      statuses.slice(5).every((s) => s === 429),
      statuses.join(","),
    );
    const right = await request(`${server.url}/auth/login`, {
      method: "POST",
      json: { username: "TARGET", password: STRONG_PASSWORD },
    });
    assert.equal(right.status, 429, "case variants share the counter");
  });
});

describe("nothing secret leaks into responses or logs", () => {
  it("scans every response body seen by this file and the server's log", async () => {
    const server = await startTestServer();
    try {
      const secrets: string[] = [STRONG_PASSWORD];
      await request(`${server.url}/auth/register`, {
        method: "POST",
        json: { username: "leaky", password: STRONG_PASSWORD },
      });
      const login = await request(`${server.url}/auth/login`, {
        method: "POST",
        json: { username: "leaky", password: STRONG_PASSWORD },
      });
      const access = (login.body as { access_token: string }).access_token;
      const cookie = refreshCookieFrom(login.headers)!;
      secrets.push(cookie);
      const refreshed = await request(`${server.url}/auth/refresh`, {
        method: "POST",
        json: {},
        headers: { cookie: `${REFRESH_COOKIE}=${cookie}` },
      });
      secrets.push(refreshCookieFrom(refreshed.headers)!);
      await request(`${server.url}/auth/me`, { headers: { authorization: `Bearer ${access}x` } });
      await request(`${server.url}/auth/login`, {
        method: "POST",
        json: { username: "leaky", password: "wrong but long enough" },
      });
      await request(`${server.url}/auth/login`, {
        method: "POST",
        body: `{"password":"${STRONG_PASSWORD}"`,
        headers: { "content-type": "application/json" },
      });
      await request(`${server.url}/auth/password`, {
        method: "POST",
        json: { current_password: STRONG_PASSWORD, new_password: "short" },
        headers: { authorization: `Bearer ${access}` },
      });
      const log = server.logs.join("\n");
      assert.ok(log.length > 0, "the server logged requests");
      for (const secret of secrets) {
        assert.ok(!log.includes(secret), "log contains a secret");
        for (const body of seenBodies) assert.ok(!body.includes(secret), "a response body contains a secret");
      }
      assert.ok(!log.includes(access), "log contains an access token");
      assert.ok(!log.includes(access.split(".")[2]!), "log contains a token signature");
      for (const body of [...seenBodies, log]) {
        assert.doesNotMatch(body, /\n\s+at .+:\d+:\d+/, "stack trace leaked");
        assert.doesNotMatch(body, /authorization|cookie":/i, "header values leaked");
      }
    } finally {
      await server.close();
    }
  });
});
