/**
 * TOTP on the demo page in real Chromium: enrol (QR code drawn in the page, code computed
 * here from the secret shown), see the recovery codes, log out, log in with password + code.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Page } from "playwright-core";
import { totpCode, totpStep } from "../../src/core/mfa/totp.ts";
import { startTestServer, type TestServer } from "../helpers/test-server.ts";
import {
  buildDemoPage,
  byTestId,
  type DemoPage,
  GOOD_PASSWORD,
  loginThroughPage,
  openDemoPage,
  registerThroughPage,
  screenshot,
  sleep,
  waitForAuthState,
} from "./harness.ts";

describe("TOTP on the demo page in Chromium", { timeout: 120_000 }, () => {
  let server: TestServer;
  let demo: DemoPage;
  let page: Page;
  let problems: string[];

  before(async () => {
    buildDemoPage();
    server = await startTestServer();
    demo = await openDemoPage(server.url, { width: 1100, height: 1400 });
    ({ page, problems } = demo);
  });

  after(async () => {
    await demo?.close();
    await server?.close();
  });

  it("enrols, shows 10 recovery codes, and logs in again with password + code", async () => {
    await page.goto("/");
    await waitForAuthState(page, "signed-out");
    await registerThroughPage(page, "tess", GOOD_PASSWORD);

    await byTestId(page, "totp-start").click();
    await page.waitForFunction(() => (document.querySelector('[data-testid="totp-secret"]')?.textContent ?? "") !== "");
    const secret = (await byTestId(page, "totp-secret").textContent()) ?? "";
    assert.match(secret, /^[A-Z2-7]{32}$/);
    assert.equal(await page.locator('[data-testid="totp-qr"] svg path').count(), 1, "a QR code drawn in the page");
    await screenshot(page, "mfa-totp-enrol");

    const confirmedAt = Date.now();
    await byTestId(page, "totp-code").fill(totpCode(secret, confirmedAt));
    await byTestId(page, "totp-confirm").click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="recovery-codes"] li').length === 10);

    await byTestId(page, "logout").click();
    await waitForAuthState(page, "signed-out");
    await loginThroughPage(page, "tess", GOOD_PASSWORD);
    await byTestId(page, "mfa-form").waitFor({ state: "visible" });
    assert.equal(await page.evaluate(() => document.body.dataset["authState"]), "signed-out");

    // The confirmation used its time step; a code works once, so wait for the next step.
    while (totpStep(Date.now()) <= totpStep(confirmedAt)) await sleep(500);
    await byTestId(page, "mfa-code").fill(totpCode(secret, Date.now()));
    await byTestId(page, "mfa-submit").click();
    await waitForAuthState(page, "signed-in");
    await page.waitForFunction(() => document.querySelector('[data-testid="username"]')?.textContent === "tess");
    await screenshot(page, "mfa-totp-signed-in");
    assert.ok(!server.logs.join("\n").includes(secret), "the secret never reaches the logs");
    assert.deepEqual(problems, []);
  });
});
