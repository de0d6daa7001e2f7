/**
 * The demo page in real Chromium against the real server and a real SMTP server: sign up with
 * an address, open the mailed verification link, ask for a reset link, open it, choose a new
 * password, log in with it. Links are taken from the mails as a mail client would show them.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Page } from "playwright-core";
import { createGatehouse, type Gatehouse } from "../../src/gatehouse.ts";
import { createLogger } from "../../src/logging/logger.ts";
import { createServerApp } from "../../src/server/app.ts";
import { listen } from "../../src/server/start-server.ts";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer } from "node:net";
import { startSmtpServer, type TestSmtpServer, to } from "../email/smtp-test-server.ts";
import {
  buildDemoPage,
  byTestId,
  type DemoPage,
  GOOD_PASSWORD,
  loginThroughPage,
  openDemoPage,
  screenshot,
  waitForAuthState,
} from "./harness.ts";

const NEW_PASSWORD = "saffron kettle 7 marble harbour";
const EMAIL = "grace@example.test";

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** The link of the mail's text part, as a reader would click it. */
function linkIn(text: string | undefined, kind: "verify" | "reset"): string {
  const match = new RegExp(`(http://\\S+/#${kind}=[A-Za-z0-9_-]{43})`).exec(text ?? "");
  assert.ok(match, `a #${kind}= link in the mail`);
  return match[1]!;
}

describe("demo page: sign-up with email, verify, forgot, reset, log in (Chromium)", { timeout: 180_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-browser-mail-"));
  let smtp: TestSmtpServer;
  let auth: Gatehouse;
  let close: () => Promise<void>;
  let url: string;
  let demo: DemoPage;
  let page: Page;
  let problems: string[];

  before(async () => {
    buildDemoPage();
    smtp = await startSmtpServer();
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    auth = await createGatehouse({
      database: `sqlite:${join(dir, "gatehouse.db")}`,
      publicUrl: url,
      email: { smtpUrl: smtp.url },
      logger: createLogger({ level: "silent" }),
    });
    const { server } = await listen(createServerApp(auth), port, "127.0.0.1");
    close = async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await auth.close();
    };
    demo = await openDemoPage(url, { width: 1100, height: 1200 });
    ({ page, problems } = demo);
  });

  after(async () => {
    await demo?.close();
    await close?.();
    await smtp?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Opens a mailed link as a fresh navigation (a click in a mail client opens a new page load). */
  async function openLink(link: string): Promise<void> {
    await page.goto("about:blank");
    await page.goto(link);
  }

  const status = () => page.locator("#status");

  it("walks the whole recovery path through the page's own forms", async () => {
    await page.goto("/");
    await waitForAuthState(page, "signed-out");
    await byTestId(page, "register-username").fill("grace");
    await byTestId(page, "register-password").fill(GOOD_PASSWORD);
    await byTestId(page, "register-email").fill(EMAIL);
    await byTestId(page, "register-submit").click();
    await waitForAuthState(page, "signed-in");
    await page.waitForFunction(() =>
      document.querySelector('[data-testid="email"]')?.textContent?.includes("not verified"),
    );

    const [verifyMail] = await smtp.waitFor(to(EMAIL));
    await openLink(linkIn(verifyMail!.parsed.text, "verify"));
    await page.waitForFunction(
      () => document.querySelector("#status")?.textContent === "Your email address is confirmed.",
    );
    assert.equal(await page.evaluate(() => location.hash), "", "the token left the address bar");
    await page.waitForFunction(
      () => document.querySelector('[data-testid="email"]')?.textContent === "grace@example.test (verified)",
    );
    await screenshot(page, "email-verified");

    await byTestId(page, "logout").click();
    await waitForAuthState(page, "signed-out");
    await byTestId(page, "forgot-email").fill(EMAIL);
    await byTestId(page, "forgot-submit").click();
    await page.waitForFunction(() => document.querySelector("#status")?.textContent?.startsWith("If an account has"));

    const [resetMail] = await smtp.waitFor((m) => to(EMAIL)(m) && m.parsed.subject === "Reset your password");
    await openLink(linkIn(resetMail!.parsed.text, "reset"));
    await byTestId(page, "reset-form").waitFor({ state: "visible" });
    assert.equal(await page.evaluate(() => location.hash), "");
    await byTestId(page, "reset-password").fill(NEW_PASSWORD);
    await byTestId(page, "reset-submit").click();
    await page.waitForFunction(() => document.querySelector("#status")?.textContent?.startsWith("Password reset"));
    await screenshot(page, "password-reset");

    await loginThroughPage(page, EMAIL, GOOD_PASSWORD);
    await byTestId(page, "login-error").waitFor({ state: "visible" });
    await loginThroughPage(page, EMAIL, NEW_PASSWORD);
    await waitForAuthState(page, "signed-in");
    assert.match((await status().textContent()) ?? "", /Logged in/);
    assert.deepEqual(problems, []);
  });
});
