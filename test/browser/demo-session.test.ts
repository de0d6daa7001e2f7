/**
 * The demo page and gatehouse/client in real Chromium against the real server: token
 * storage, the refresh cookie, silent refresh, reload, two tabs, logout across tabs, and
 * the invalid-credentials message. Access tokens live 5 seconds here.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { startTestServer, type TestServer } from "../helpers/test-server.ts";
import { REFRESH_COOKIE } from "../helpers/http.ts";
import {
  buildDemoPage,
  byTestId,
  clickAtSameInstant,
  expiryOf,
  GOOD_PASSWORD,
  launchChromium,
  loginThroughPage,
  readableStorage,
  registerThroughPage,
  screenshot,
  sleep,
  TrafficLog,
  waitForAuthState,
  watchPageProblems,
} from "./harness.ts";

const TOKEN_TTL_SECONDS = 5;
const USERNAME = "ada";

describe("demo page in Chromium (5-second access tokens)", { timeout: 180_000 }, () => {
  let server: TestServer;
  let browser: Browser;
  let context: BrowserContext;
  let traffic: TrafficLog;
  let tabA: Page;
  let tabB: Page;
  let problems: string[];

  before(async () => {
    buildDemoPage();
    browser = await launchChromium();
    server = await startTestServer({ accessTokenTtlSeconds: TOKEN_TTL_SECONDS });
    context = await browser.newContext({ baseURL: server.url, viewport: { width: 1100, height: 900 } });
    traffic = new TrafficLog(context);
    problems = watchPageProblems(context);
    tabA = await context.newPage();
  });

  after(async () => {
    await context?.close();
    await browser?.close();
    await server?.close();
  });

  /** Asserts no issued access token (and nothing token-shaped) is readable from storage, cookies or the URL. */
  async function assertNoTokenReadable(page: Page): Promise<void> {
    await traffic.settle();
    assert.ok(traffic.issuedTokens.length > 0, "the test saw no token being issued");
    const readable = await readableStorage(page);
    for (const token of traffic.issuedTokens)
      assert.ok(!readable.includes(token), "an access token is readable from storage");
    assert.ok(!readable.includes("eyJ"), `something JWT-shaped is readable: ${readable}`);
  }

  it("shows the signed-out forms on a fresh visit", async () => {
    await tabA.goto("/");
    await waitForAuthState(tabA, "signed-out");
    assert.match((await byTestId(tabA, "status").textContent()) ?? "", /Not signed in/);
    assert.equal(await byTestId(tabA, "login-form").isVisible(), true);
    await screenshot(tabA, "01-signed-out");
  });

  it("registers and logs in; the access token is in no storage and the refresh cookie is HttpOnly", async () => {
    await registerThroughPage(tabA, USERNAME, GOOD_PASSWORD);
    await tabA.waitForSelector('[data-testid="session-row"]');
    await screenshot(tabA, "02-signed-in");
    await assertNoTokenReadable(tabA);

    const cookies = await context.cookies(`${server.url}/auth/refresh`);
    const refresh = cookies.find((cookie) => cookie.name === REFRESH_COOKIE);
    assert.ok(refresh, `no refresh cookie among ${cookies.map((c) => c.name).join(", ")}`);
    assert.equal(refresh.httpOnly, true);
    assert.equal(refresh.secure, true);
    assert.equal(refresh.sameSite, "Strict");
    assert.equal(refresh.path, "/auth");
    const documentCookie = await tabA.evaluate("document.cookie");
    assert.ok(!String(documentCookie).includes(refresh.value), "the refresh cookie is readable by script");
  });

  it("keeps working past the access token's expiry through silent refresh", async () => {
    const firstToken = traffic.issuedTokens.at(-1)!;
    const refreshesBefore = traffic.count("POST", "/auth/refresh");
    await sleep(7_000);
    await byTestId(tabA, "call-api").click();
    await tabA.waitForSelector('[data-testid="api-result"][data-status]');
    assert.equal(await byTestId(tabA, "api-result").getAttribute("data-status"), "200");
    await screenshot(tabA, "03-api-after-silent-refresh");

    await traffic.settle();
    assert.ok(traffic.count("POST", "/auth/refresh") > refreshesBefore, "no refresh happened in 7 seconds");
    const usedToken = traffic.bearerTokens.at(-1);
    assert.ok(usedToken, "the API call carried no bearer token");
    assert.notEqual(usedToken, firstToken, "the API was called with the first (expired) token");
    assert.ok(expiryOf(usedToken) * 1000 > Date.now(), "the API was called with an expired token");
    await assertNoTokenReadable(tabA);
  });

  it("restores the session on reload", async () => {
    await tabA.reload();
    await waitForAuthState(tabA, "signed-in");
    await tabA.waitForFunction(
      (name) => document.querySelector('[data-testid="username"]')?.textContent === name,
      USERNAME,
    );
    assert.match((await byTestId(tabA, "status").textContent()) ?? "", /restored/);
    await assertNoTokenReadable(tabA);
  });

  it("two tabs refreshing at once make exactly one /auth/refresh request and share its token", async () => {
    tabB = await context.newPage();
    await tabB.goto("/");
    await waitForAuthState(tabB, "signed-in");
    await tabB.waitForSelector('[data-testid="session-row"]');
    await sleep(500);

    // Both tabs ask for a new token at the same instant.
    traffic.reset("POST", "/auth/refresh");
    await clickAtSameInstant([tabA, tabB], "refresh-now");
    await traffic.waitForCount("POST", "/auth/refresh", 1);
    await sleep(1_000); // room for a second, uncoordinated request from the other tab
    assert.equal(traffic.count("POST", "/auth/refresh"), 1, "both tabs refreshed");

    // Both use the one new token.
    await traffic.settle();
    const shared = traffic.issuedTokens.at(-1)!;
    for (const tab of [tabA, tabB]) {
      await tab.evaluate(`document.querySelector('[data-testid="api-result"]').removeAttribute("data-status")`);
      await byTestId(tab, "call-api").click();
      await tab.waitForSelector('[data-testid="api-result"][data-status]');
      assert.equal(await byTestId(tab, "api-result").getAttribute("data-status"), "200");
      await traffic.settle();
      assert.equal(traffic.bearerTokens.at(-1), shared, "a tab called the API with a token other than the shared one");
    }

    // Their timers fire at the same moment before expiry: still one request per lifetime.
    traffic.reset("POST", "/auth/refresh");
    await sleep(TOKEN_TTL_SECONDS * 1000 + 500);
    assert.equal(traffic.count("POST", "/auth/refresh"), 1, "the tabs' automatic refreshes were not coordinated");
    for (const tab of [tabA, tabB]) assert.equal(await tab.getAttribute("body", "data-auth-state"), "signed-in");
    await screenshot(tabB, "04-second-tab");
  });

  it("logging out in one tab logs the other out", async () => {
    await byTestId(tabA, "logout").click();
    await waitForAuthState(tabA, "signed-out");
    await waitForAuthState(tabB, "signed-out", 5_000);
    assert.match((await byTestId(tabB, "status").textContent()) ?? "", /signed out/i);
    await screenshot(tabB, "05-other-tab-logged-out");

    // The session really ended: a reload stays signed out.
    await tabB.reload();
    await waitForAuthState(tabB, "signed-out");
    const cookies = await context.cookies(`${server.url}/auth/refresh`);
    assert.equal(
      cookies.find((cookie) => cookie.name === REFRESH_COOKIE),
      undefined,
      "the refresh cookie survived logout",
    );
  });

  it("logging in in one tab signs the other in", async () => {
    await loginThroughPage(tabA, USERNAME, GOOD_PASSWORD);
    await waitForAuthState(tabA, "signed-in");
    await waitForAuthState(tabB, "signed-in", 5_000);
  });

  it("log out everywhere ends every session and signs every tab out", async () => {
    await byTestId(tabB, "logout-all").click();
    await waitForAuthState(tabB, "signed-out");
    await waitForAuthState(tabA, "signed-out", 5_000);
    await tabA.reload();
    await waitForAuthState(tabA, "signed-out");
  });

  it("a failed login shows the invalid-credentials message", async () => {
    await loginThroughPage(tabA, USERNAME, "not the right password at all");
    const error = byTestId(tabA, "login-error");
    await error.waitFor({ state: "visible" });
    assert.match((await error.textContent()) ?? "", /do not match an account/);
    assert.equal(await tabA.getAttribute("body", "data-auth-state"), "signed-out");
    await screenshot(tabA, "06-invalid-credentials");
  });

  it("raised no uncaught errors or CSP violations in any tab", () => {
    assert.deepEqual(problems, []);
  });
});
