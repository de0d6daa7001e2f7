import { spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { resolveChromium } from "../helpers/chromium.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const SCREENSHOT_DIR = join(ROOT, "test-output", "screenshots");

/** A password the default policy accepts (15+ characters, not on the common list). */
export const GOOD_PASSWORD = "plinth otter vellum 42 lantern";

/**
 * Builds public/app.js from the current sources, so a test can never run a stale bundle.
 * Only the page bundle: the library build (dist/) is not needed in a browser.
 */
export function buildDemoPage(): void {
  const run = spawnSync(process.execPath, [join(ROOT, "scripts", "build.mjs"), "--app"], {
    cwd: ROOT,
    encoding: "utf8",
  });
  if (run.status !== 0) throw new Error(`building public/app.js failed:\n${run.stdout}\n${run.stderr}`);
}

/**
 * Headless Chromium (see resolveChromium for which one). The flags let it run as root in a
 * container and keep it off the network except for the test server. Playwright gives every
 * launch a fresh profile (--user-data-dir) in a temporary folder and removes it on close.
 */
export async function launchChromium(): Promise<Browser> {
  const { executablePath, env } = await resolveChromium();
  return chromium.launch({
    executablePath,
    env: { ...process.env, ...env },
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** A fresh context of a browser with one page, its problems watched (see watchPageProblems). */
export interface DemoPage {
  browser: Browser;
  context: BrowserContext;
  page: Page;
  problems: string[];
  /** Closes the context and the browser. */
  close(): Promise<void>;
}

/** Opens one page at `baseURL` in `browser`, or in a newly launched Chromium when none is given. */
export async function openDemoPage(
  baseURL: string,
  viewport: { width: number; height: number },
  browser?: Browser,
): Promise<DemoPage> {
  const opened = browser ?? (await launchChromium());
  const context = await opened.newContext({ baseURL, viewport });
  const problems = watchPageProblems(context);
  const page = await context.newPage();
  return {
    browser: opened,
    context,
    page,
    problems,
    async close() {
      await context.close();
      await opened.close();
    },
  };
}

/**
 * Collects what should never happen on the page: uncaught exceptions and CSP violations.
 * (Failed-resource console lines are expected: a 401 from /auth/refresh when signed out.)
 */
export function watchPageProblems(context: BrowserContext): string[] {
  const problems: string[] = [];
  const watch = (page: Page) => {
    page.on("pageerror", (error) => problems.push(`uncaught: ${error.message}`));
    page.on("console", (message) => {
      if (message.type() === "error" && /Content Security Policy|Uncaught/i.test(message.text()))
        problems.push(message.text());
    });
  };
  context.pages().forEach(watch);
  context.on("page", watch);
  return problems;
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}

/** Waits until the page shows the given auth state (the demo sets body[data-auth-state]). */
export async function waitForAuthState(page: Page, state: "signed-in" | "signed-out", timeout = 10_000): Promise<void> {
  await page.waitForSelector(`body[data-auth-state="${state}"]`, { state: "attached", timeout });
}

export function byTestId(page: Page, id: string) {
  return page.locator(`[data-testid="${id}"]`);
}

/** Creates an account and logs in through the page's own forms. */
export async function registerThroughPage(page: Page, username: string, password: string): Promise<void> {
  await byTestId(page, "register-username").fill(username);
  await byTestId(page, "register-password").fill(password);
  await byTestId(page, "register-submit").click();
  await waitForAuthState(page, "signed-in");
  await page.waitForFunction(
    (name) => document.querySelector('[data-testid="username"]')?.textContent === name,
    username,
  );
}

export async function loginThroughPage(page: Page, username: string, password: string): Promise<void> {
  await byTestId(page, "login-username").fill(username);
  await byTestId(page, "login-password").fill(password);
  await byTestId(page, "login-submit").click();
}

/** Everything script on the page can read from web storage, cookies and the URL. */
export async function readableStorage(page: Page): Promise<string> {
  return page.evaluate(`(async () => JSON.stringify({
    local: Object.entries(localStorage),
    session: Object.entries(sessionStorage),
    cookie: document.cookie,
    url: location.href,
    name: window.name,
    indexedDB: (await indexedDB.databases()).map((d) => d.name),
    caches: await caches.keys(),
  }))()`);
}

/** Watches a context's traffic: counts requests by path and records tokens as they are issued and used. */
export class TrafficLog {
  readonly issuedTokens: string[] = [];
  readonly bearerTokens: string[] = [];
  #counts = new Map<string, number>();
  readonly #pending: Promise<unknown>[] = [];

  constructor(context: BrowserContext) {
    context.on("request", (request) => {
      const path = new URL(request.url()).pathname;
      this.#counts.set(`${request.method()} ${path}`, this.count(request.method(), path) + 1);
      if (path === "/api/hello") {
        this.#pending.push(
          request.allHeaders().then((headers) => {
            const value = headers["authorization"];
            if (value?.startsWith("Bearer ")) this.bearerTokens.push(value.slice("Bearer ".length));
          }),
        );
      }
    });
    context.on("response", (response) => {
      const path = new URL(response.url()).pathname;
      if ((path === "/auth/login" || path === "/auth/refresh") && response.ok()) {
        this.#pending.push(
          response
            .json()
            .then((body: { access_token?: string }) => {
              if (body.access_token) this.issuedTokens.push(body.access_token);
            })
            .catch(() => {}),
        );
      }
    });
  }

  count(method: string, path: string): number {
    return this.#counts.get(`${method} ${path}`) ?? 0;
  }

  /** Waits until at least `count` such requests have been seen (generous: the machine may be loaded). */
  async waitForCount(method: string, path: string, count: number, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.count(method, path) < count) {
      if (Date.now() > deadline) throw new Error(`saw ${this.count(method, path)} of ${count} ${method} ${path}`);
      await sleep(50);
    }
  }

  reset(method: string, path: string): void {
    this.#counts.delete(`${method} ${path}`);
  }

  /** Lets pending header/body reads finish. */
  async settle(): Promise<void> {
    await Promise.all(this.#pending);
  }
}

/** The `exp` claim (epoch seconds) of a JWT, read without verifying. */
export function expiryOf(token: string): number {
  const payload = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8")) as { exp: number };
  return payload.exp;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Clicks a test id in several pages at one wall-clock instant (page timers, not Playwright's sequential clicks). */
export async function clickAtSameInstant(pages: Page[], testId: string): Promise<void> {
  const at = Date.now() + 400;
  await Promise.all(
    pages.map((page) =>
      page.evaluate(
        `new Promise((resolve) => setTimeout(() => {
          document.querySelector('[data-testid="${testId}"]').click();
          resolve();
        }, ${at} - Date.now()))`,
      ),
    ),
  );
}
