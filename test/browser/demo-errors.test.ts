/**
 * The demo page's human messages for the errors a person can run into: throttled logins
 * (with the Retry-After seconds), a rejected password, a taken username, closed registration.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { startTestServer, type TestServer } from "../helpers/test-server.ts";
import {
  buildDemoPage,
  byTestId,
  GOOD_PASSWORD,
  launchChromium,
  loginThroughPage,
  registerThroughPage,
  screenshot,
  waitForAuthState,
} from "./harness.ts";

const BLOCK_SECONDS = 120;

describe("demo page error messages in Chromium", { timeout: 120_000 }, () => {
  let browser: Browser;
  const servers: TestServer[] = [];

  before(async () => {
    buildDemoPage();
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await Promise.all(servers.map((server) => server.close()));
  });

  async function openPage(server: TestServer): Promise<Page> {
    const context = await browser.newContext({ baseURL: server.url, viewport: { width: 1100, height: 800 } });
    const page = await context.newPage();
    await page.goto("/");
    await waitForAuthState(page, "signed-out");
    return page;
  }

  async function errorText(page: Page, testId: string): Promise<string> {
    const error = byTestId(page, testId);
    await error.waitFor({ state: "visible" });
    return (await error.textContent()) ?? "";
  }

  it("a throttled login shows the too-many-requests message with the Retry-After seconds", async () => {
    const server = await startTestServer({
      loginThrottle: { perAccountAndIp: { attempts: 2, windowSeconds: 60, blockSeconds: BLOCK_SECONDS } },
    });
    servers.push(server);
    const page = await openPage(server);
    await registerThroughPage(page, "grace", GOOD_PASSWORD);
    await byTestId(page, "logout").click();
    await waitForAuthState(page, "signed-out");

    for (let attempt = 1; attempt <= 2; attempt++) {
      const answered = page.waitForResponse((response) => response.url().endsWith("/auth/login"));
      await loginThroughPage(page, "grace", `wrong password number ${attempt}!`);
      assert.equal((await answered).status(), 401);
      assert.match(await errorText(page, "login-error"), /do not match an account/);
    }

    const throttled = page.waitForResponse((response) => response.url().endsWith("/auth/login"));
    await loginThroughPage(page, "grace", GOOD_PASSWORD);
    const response = await throttled;
    assert.equal(response.status(), 429);
    const retryAfter = Number(response.headers()["retry-after"]);
    assert.ok(retryAfter > 0 && retryAfter <= BLOCK_SECONDS, `Retry-After was ${retryAfter}`);
    await page.waitForFunction(() =>
      /Too many attempts/.test(document.querySelector('[data-testid="login-error"]')?.textContent ?? ""),
    );
    assert.equal(await errorText(page, "login-error"), `Too many attempts. Try again in ${retryAfter} seconds.`);
    assert.equal(await page.getAttribute("body", "data-auth-state"), "signed-out");
    await screenshot(page, "07-too-many-requests");
  });

  it("a rejected password shows the server's rule, and a taken username says so", async () => {
    const server = await startTestServer();
    servers.push(server);
    const page = await openPage(server);

    await byTestId(page, "register-username").fill("hopper");
    await byTestId(page, "register-password").fill("short");
    await byTestId(page, "register-submit").click();
    const passwordMessage = await errorText(page, "register-error");
    assert.match(passwordMessage, /15/, `the message does not state the length rule: ${passwordMessage}`);
    await screenshot(page, "08-invalid-password");

    await registerThroughPage(page, "hopper", GOOD_PASSWORD);
    await byTestId(page, "logout").click();
    await waitForAuthState(page, "signed-out");
    await byTestId(page, "register-username").fill("hopper");
    await byTestId(page, "register-password").fill(`${GOOD_PASSWORD} again`);
    await byTestId(page, "register-submit").click();
    assert.match(await errorText(page, "register-error"), /already taken/);
    await screenshot(page, "09-username-taken");
  });

  it("closed registration says to ask an administrator", async () => {
    const server = await startTestServer({ registrationOpen: false });
    servers.push(server);
    const page = await openPage(server);
    await byTestId(page, "register-username").fill("turing");
    await byTestId(page, "register-password").fill(GOOD_PASSWORD);
    await byTestId(page, "register-submit").click();
    assert.match(await errorText(page, "register-error"), /not accepting new accounts/);
  });
});
