/**
 * gatehouse/client used directly (not through the demo page) in real Chromium against the
 * real server: one refresh for many concurrent calls in a tab, refresh-and-retry on a 401,
 * restore without a session, error objects, and the token never leaving its origin.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { build } from "esbuild";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { startTestServer, type TestServer } from "../helpers/test-server.ts";
import { GOOD_PASSWORD, launchChromium, TrafficLog } from "./harness.ts";

const CLIENT_ENTRY = fileURLToPath(new URL("../../src/client/index.ts", import.meta.url));

/** The client library as a classic script defining `window.GatehouseClientLib`. */
async function bundleClient(): Promise<string> {
  const result = await build({
    entryPoints: [CLIENT_ENTRY],
    bundle: true,
    format: "iife",
    globalName: "GatehouseClientLib",
    platform: "browser",
    target: "es2022",
    write: false,
  });
  return result.outputFiles[0]!.text;
}

describe("gatehouse/client in Chromium", { timeout: 120_000 }, () => {
  let server: TestServer;
  let browser: Browser;
  let context: BrowserContext;
  let traffic: TrafficLog;
  let page: Page;
  let clientSource: string;

  before(async () => {
    clientSource = await bundleClient();
    browser = await launchChromium();
    server = await startTestServer({ accessTokenTtlSeconds: 60 });
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  /**
   * A fresh context on a same-origin page without the demo app (whose own client would join
   * in), with the library loaded and `window.offset` shifting the client's clock. The
   * server's CSP (connect-src 'self') is bypassed so a cross-origin call can leave the page.
   */
  async function freshPage(): Promise<void> {
    await context?.close();
    context = await browser.newContext({ baseURL: server.url, bypassCSP: true });
    traffic = new TrafficLog(context);
    page = await context.newPage();
    await page.goto("/healthz");
    await page.evaluate(`${clientSource};
      window.GatehouseClientLib = GatehouseClientLib;
      window.offset = 0;
      window.states = [];
      window.client = GatehouseClientLib.createGatehouseClient({ now: () => Date.now() + window.offset });
      window.client.onChange((state) => window.states.push(state.status));
      0`);
  }

  it("many concurrent calls with a token about to expire make one refresh", async () => {
    await freshPage();
    await page.evaluate(`(async () => {
      await client.register("lovelace", ${JSON.stringify(GOOD_PASSWORD)});
      await client.login("lovelace", ${JSON.stringify(GOOD_PASSWORD)});
    })()`);
    assert.equal(await page.evaluate("client.status"), "signed-in");

    // 55 s later by the client's clock the 60 s token is inside the 6 s leeway.
    await page.evaluate("window.offset = 55_000");
    const statuses = await page.evaluate(
      `Promise.all(Array.from({ length: 6 }, () => client.fetch("/api/hello").then((r) => r.status)))`,
    );
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 200]);
    assert.equal(traffic.count("POST", "/auth/refresh"), 1);
    await traffic.settle();
    assert.equal(new Set(traffic.bearerTokens).size, 1, "the calls did not all wait for the one new token");
    assert.equal(traffic.bearerTokens[0], traffic.issuedTokens.at(-1));
    assert.deepEqual(await page.evaluate("states"), ["signed-in", "signed-in"]);
  });

  it("on a 401 it refreshes once and retries once", async () => {
    await freshPage();
    await page.evaluate(`(async () => {
      await client.register("hamilton", ${JSON.stringify(GOOD_PASSWORD)});
      await client.login("hamilton", ${JSON.stringify(GOOD_PASSWORD)});
    })()`);
    // Outside the client: a second login (the cookie now belongs to it) ends the client's session,
    // so the client's token is refused while its cookie still works.
    await page.evaluate(`(async () => {
      const post = (path, body, token) => fetch(path, { method: "POST", headers: { "Content-Type": "application/json", ...(token ? { Authorization: "Bearer " + token } : {}) }, body: JSON.stringify(body) });
      const login = await (await post("/auth/login", { username: "hamilton", password: ${JSON.stringify(GOOD_PASSWORD)} })).json();
      const headers = { Authorization: "Bearer " + login.access_token };
      const { sessions } = await (await fetch("/auth/sessions", { headers })).json();
      const other = sessions.find((s) => !s.current);
      const ended = await fetch("/auth/sessions/" + other.id, { method: "DELETE", headers });
      if (ended.status !== 204) throw new Error("could not end the session: " + ended.status);
    })()`);
    traffic.reset("POST", "/auth/refresh");
    traffic.reset("GET", "/api/hello");

    const status = await page.evaluate(`client.fetch("/api/hello").then((r) => r.status)`);
    assert.equal(status, 200);
    assert.equal(traffic.count("POST", "/auth/refresh"), 1);
    assert.equal(traffic.count("GET", "/api/hello"), 2);
    await traffic.settle();
    const [first, second] = traffic.bearerTokens.slice(-2);
    assert.notEqual(first, second, "the retry reused the refused token");
    assert.equal(second, traffic.issuedTokens.at(-1));
  });

  it("a 401 with no session left gives back the 401 and signs out", async () => {
    await freshPage();
    await page.evaluate(`(async () => {
      await client.register("noether", ${JSON.stringify(GOOD_PASSWORD)});
      await client.login("noether", ${JSON.stringify(GOOD_PASSWORD)});
      // End the session behind the client's back (same cookie, plain fetch).
      await fetch("/auth/logout", { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" });
    })()`);
    const status = await page.evaluate(`client.fetch("/api/hello").then((r) => r.status)`);
    assert.equal(status, 401);
    assert.equal(traffic.count("GET", "/api/hello"), 1, "retried without a new token");
    assert.equal(await page.evaluate("client.status"), "signed-out");
    assert.deepEqual(await page.evaluate("states"), ["signed-in", "signed-out"]);
  });

  it("restore() without a session resolves signed-out; refresh() and login() throw GatehouseClientError", async () => {
    await freshPage();
    assert.deepEqual(await page.evaluate("client.restore()"), { status: "signed-out" });
    const refreshError = await page.evaluate(
      `client.refresh().then(() => null, (e) => ({ name: e.name, code: e.code, status: e.status }))`,
    );
    assert.deepEqual(refreshError, { name: "GatehouseClientError", code: "invalid_grant", status: 401 });
    const loginError = await page.evaluate(
      `client.login("nobody-here", "not a password that exists").then(() => null, (e) => ({ code: e.code, status: e.status, isError: e instanceof GatehouseClientLib.GatehouseClientError }))`,
    );
    assert.deepEqual(loginError, { code: "invalid_credentials", status: 401, isError: true });
  });

  it("never sends the token to another origin", async () => {
    await freshPage();
    await page.evaluate(`(async () => {
      await client.register("liskov", ${JSON.stringify(GOOD_PASSWORD)});
      await client.login("liskov", ${JSON.stringify(GOOD_PASSWORD)});
    })()`);
    // localhost is another origin than 127.0.0.1 (same server): the request goes out, bare.
    const otherOrigin = server.url.replace("127.0.0.1", "localhost");
    await page.evaluate(`client.fetch(${JSON.stringify(`${otherOrigin}/api/hello`)}).catch(() => undefined)`);
    const sameOrigin = await page.evaluate(`client.fetch("/api/hello").then((r) => r.status)`);
    assert.equal(sameOrigin, 200);
    await traffic.settle();
    assert.equal(traffic.count("GET", "/api/hello"), 2);
    assert.equal(traffic.bearerTokens.length, 1, "the cross-origin request carried the token");
  });

  it("a 401 that is an answer (wrong current password) is not refreshed and retried", async () => {
    await freshPage();
    await page.evaluate(`(async () => {
      await client.register("hopper", ${JSON.stringify(GOOD_PASSWORD)});
      await client.login("hopper", ${JSON.stringify(GOOD_PASSWORD)});
    })()`);
    const code = await page.evaluate(
      `client.changePassword("not my password at all", "a brand new passphrase 99").then(() => "ok", (e) => e.code)`,
    );
    assert.equal(code, "invalid_credentials");
    await traffic.settle();
    assert.equal(traffic.count("POST", "/auth/password"), 1, "sent once");
    assert.equal(traffic.count("POST", "/auth/refresh"), 0, "no refresh for a wrong password");
    assert.equal(await page.evaluate("client.status"), "signed-in");
  });
});
