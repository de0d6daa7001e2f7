/**
 * The demo page's "Recent activity" in real Chromium against the real server: the user's own
 * events through gatehouse/client's activity(), in words, newest first, failed attempts marked.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Page } from "playwright-core";
import { request } from "../helpers/http.ts";
import { startTestServer, type TestServer } from "../helpers/test-server.ts";
import {
  buildDemoPage,
  byTestId,
  type DemoPage,
  GOOD_PASSWORD,
  openDemoPage,
  registerThroughPage,
  screenshot,
} from "./harness.ts";

describe("demo page: recent activity", { timeout: 120_000 }, () => {
  let server: TestServer;
  let demo: DemoPage;
  let page: Page;
  let problems: string[];

  before(async () => {
    buildDemoPage();
    server = await startTestServer();
    demo = await openDemoPage(server.url, { width: 1100, height: 1200 });
    ({ page, problems } = demo);
  });

  after(async () => {
    await demo?.close();
    await server?.close();
  });

  const shownTypes = () =>
    page.locator('[data-testid="activity-item"]').evaluateAll((items) => items.map((item) => item.dataset["type"]));

  it("lists the account's own events after sign-in, newest first", async () => {
    await page.goto("/");
    await registerThroughPage(page, "lena", GOOD_PASSWORD);
    await page.waitForSelector('[data-testid="activity-item"][data-type="login_succeeded"]');
    assert.deepEqual(await shownTypes(), ["login_succeeded", "user_registered"]);
    const text = (await byTestId(page, "activity").textContent()) ?? "";
    assert.match(text, /Logged in/);
    assert.match(text, /Account created/);
  });

  it("shows a failed attempt from elsewhere, marked, after a reload of the list", async () => {
    const failed = await request(`${server.url}/auth/login`, {
      method: "POST",
      headers: { "user-agent": "curl/8.5.0" },
      json: { username: "lena", password: "definitely not the password" },
    });
    assert.equal(failed.status, 401);
    await byTestId(page, "reload-activity").click();
    await page.waitForSelector('[data-testid="activity-item"][data-type="login_failed"].warning');
    assert.deepEqual(await shownTypes(), ["login_failed", "login_succeeded", "user_registered"]);
    const first = (await page.locator('[data-testid="activity-item"]').first().textContent()) ?? "";
    assert.match(first, /Failed login attempt · .* · curl · 127\.0\.0\.1/);
    await screenshot(page, "activity-01-failed-attempt");
    assert.deepEqual(problems, []);
  });
});
