/**
 * Passkeys on the demo page in real Chromium with a CDP virtual authenticator (CTAP2,
 * internal, resident keys, user verification): register a passkey, log out, log in with
 * the passkey alone; then log in with the password and use the passkey as the second step.
 * WebAuthn needs a domain, not an IP address, so the page is opened at http://localhost.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { chromium, type Page } from "playwright-core";
import { createGatehouse, type Gatehouse } from "../../src/gatehouse.ts";
import { createLogger } from "../../src/logging/logger.ts";
import { createServerApp } from "../../src/server/app.ts";
import { listen } from "../../src/server/start-server.ts";
import { resolveChromium } from "../helpers/chromium.ts";
import {
  buildDemoPage,
  byTestId,
  type DemoPage,
  GOOD_PASSWORD,
  loginThroughPage,
  openDemoPage,
  registerThroughPage,
  screenshot,
  waitForAuthState,
} from "./harness.ts";

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

describe("passkeys on the demo page in Chromium (virtual authenticator)", { timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-passkeys-"));
  let auth: Gatehouse;
  let server: Server;
  let demo: DemoPage;
  let page: Page;
  let problems: string[];

  before(async () => {
    buildDemoPage();
    const port = await freePort();
    const publicUrl = `http://localhost:${port}`;
    auth = await createGatehouse({
      database: `sqlite:${join(dir, "gatehouse.db")}`,
      publicUrl,
      logger: createLogger({ level: "silent" }),
    });
    ({ server } = await listen(createServerApp(auth), port, "127.0.0.1"));
    const { executablePath, env } = await resolveChromium();
    const browser = await chromium.launch({
      executablePath,
      env: { ...process.env, ...env },
      headless: true,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--host-resolver-rules=MAP localhost 127.0.0.1"],
    });
    demo = await openDemoPage(publicUrl, { width: 1100, height: 1400 }, browser);
    ({ page, problems } = demo);
    const { context } = demo;
    const cdp = await context.newCDPSession(page);
    await cdp.send("WebAuthn.enable");
    await cdp.send("WebAuthn.addVirtualAuthenticator", {
      options: {
        protocol: "ctap2",
        transport: "internal",
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    });
  });

  after(async () => {
    await demo?.close();
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await auth?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const newestSessionAmr = async (username: string) => {
    const user = await auth.store.findUserByUsername(username);
    const [newest] = await auth.store.listLiveSessions(user!.id, Date.now());
    return newest?.amr;
  };

  it("registers a passkey, logs out, and logs in with the passkey alone (amr hwk+user+mfa)", async () => {
    await page.goto("/");
    await waitForAuthState(page, "signed-out");
    await registerThroughPage(page, "pat", GOOD_PASSWORD);

    await byTestId(page, "passkey-add").click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="passkey-list"] li').length === 1);
    const user = await auth.store.findUserByUsername("pat");
    const [passkey] = await auth.store.listPasskeys(user!.id);
    assert.equal(passkey?.deviceType, "singleDevice");
    assert.equal(passkey?.backedUp, false);
    await screenshot(page, "mfa-passkey-registered");

    await byTestId(page, "logout").click();
    await waitForAuthState(page, "signed-out");
    await byTestId(page, "passkey-login").click();
    await waitForAuthState(page, "signed-in");
    await page.waitForFunction(() => document.querySelector('[data-testid="username"]')?.textContent === "pat");
    assert.deepEqual(await newestSessionAmr("pat"), ["hwk", "user", "mfa"]);
    const used = await auth.store.findPasskey(passkey!.id);
    assert.ok(used && used.lastUsedAt !== null, "the use is recorded");
    assert.ok(used.counter >= passkey!.counter, "the signature counter is stored");
  });

  it("with a passkey registered, the password leads to a second step the passkey completes (amr pwd+hwk+mfa)", async () => {
    await byTestId(page, "logout").click();
    await waitForAuthState(page, "signed-out");
    await loginThroughPage(page, "pat", GOOD_PASSWORD);
    await byTestId(page, "mfa-form").waitFor({ state: "visible" });
    await byTestId(page, "mfa-passkey").click();
    await waitForAuthState(page, "signed-in");
    assert.deepEqual(await newestSessionAmr("pat"), ["pwd", "hwk", "mfa"]);
    assert.deepEqual(problems, []);
  });
});
