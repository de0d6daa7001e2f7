import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, beforeEach, describe, it } from "node:test";
import { type GatehouseOptions, resolveConfig } from "../../src/core/config.ts";
import { AuthError } from "../../src/core/errors.ts";
import { createPasswordPolicy } from "../../src/core/passwords/password-policy.ts";

/** Strong by every local rule, but listed by the fake range API as breached 42 times. */
const BREACHED = "vellum-lantern-otter-plinth-9";
/** Strong, and present in the answer only as a padding entry (count 0): not breached. */
const PADDED = "mango-telescope-river-42";
/** Strong and absent from the answer. */
const CLEAN = "plinth otter vellum 42 lantern";
const user = { username: "alice" };

const sha1 = (text: string) => createHash("sha1").update(text, "utf8").digest("hex").toUpperCase();

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

type Behaviour = "normal" | "hang" | "error" | "garbage";

/**
 * A local server that speaks the Have I Been Pwned range API: `GET /range/{5 hex}` answers
 * `SUFFIX:COUNT` lines; with `Add-Padding: true` it adds several hundred `SUFFIX:0` lines.
 */
class FakeRangeApi {
  readonly seen: Seen[] = [];
  behaviour: Behaviour = "normal";
  #server: Server | undefined;
  #counts = new Map<string, number>([
    [sha1(BREACHED), 42],
    [sha1(PADDED), 0],
  ]);
  url = "";

  async start(): Promise<void> {
    this.#server = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk) => (body += chunk));
      req.on("end", () => {
        this.seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body });
        if (this.behaviour === "hang") return; // never answers
        if (this.behaviour === "error") return void res.writeHead(500).end("oops");
        const text = { "content-type": "text/plain" };
        if (this.behaviour === "garbage") return void res.writeHead(200, text).end("<html>hi</html>");
        const match = /^\/range\/([0-9A-F]{5})$/.exec(req.url ?? "");
        if (!match) return void res.writeHead(400).end("The hash prefix was not in a valid format");
        const prefix = match[1]!;
        const lines: string[] = [];
        for (const [hash, count] of this.#counts) if (hash.startsWith(prefix)) lines.push(`${hash.slice(5)}:${count}`);
        const randomSuffix = () => randomBytes(18).toString("hex").slice(0, 35).toUpperCase();
        for (let i = 0; i < 3; i++) lines.push(`${randomSuffix()}:${i + 1}`);
        if (req.headers["add-padding"] === "true") {
          for (let i = 0; i < 800; i++) lines.push(`${randomSuffix()}:0`);
        }
        res.writeHead(200, text).end(lines.join("\r\n"));
      });
    });
    await new Promise<void>((resolve) => this.#server!.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.#server!.address() as AddressInfo).port}/range/`;
  }

  async stop(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise<void>((resolve) => this.#server?.close(() => resolve()));
  }
}

/** A port nothing listens on: bound, then released. */
async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/range/`;
}

async function rejectsWith(promise: Promise<unknown>, code: string, rule: RegExp, password: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof AuthError, "AuthError");
    assert.equal(error.code, code);
    assert.match(error.message, rule);
    assert.ok(!error.message.includes(password), "never echoes the password");
    assert.ok(!error.message.includes(sha1(password).slice(0, 5)), "nor any part of its hash");
    return true;
  });
}

describe("breached-password check against a local range API", () => {
  const api = new FakeRangeApi();
  const warnings: string[] = [];
  const warn = (message: string) => warnings.push(message);
  before(() => api.start());
  after(() => api.stop());
  beforeEach(() => {
    api.seen.length = 0;
    api.behaviour = "normal";
    warnings.length = 0;
  });

  const policyWith = (mode: "off" | "check" | "required", url = api.url, timeoutMs = 2000) =>
    createPasswordPolicy(resolveConfig({ password: { breached: { mode, url, timeoutMs } } }).password, { warn });

  it("is off by default and then asks nothing", async () => {
    await createPasswordPolicy(resolveConfig().password).check(BREACHED, user);
    await policyWith("off").check(BREACHED, user);
    assert.equal(api.seen.length, 0);
  });

  it("refuses a breached password with 400 invalid_password saying so", async () => {
    for (const mode of ["check", "required"] as const) {
      const check = policyWith(mode).check(BREACHED, user);
      await rejectsWith(check, "invalid_password", /appeared in a data breach/, BREACHED);
    }
  });

  it("sends only the first 5 hex characters of the SHA-1, with Add-Padding: true, and nothing else of it", async () => {
    await assert.rejects(policyWith("check").check(BREACHED, user));
    assert.equal(api.seen.length, 1);
    const [request] = api.seen;
    const hash = sha1(BREACHED);
    assert.equal(request!.method, "GET");
    assert.equal(request!.url, `/range/${hash.slice(0, 5)}`);
    assert.equal(request!.body, "");
    assert.equal(request!.headers["add-padding"], "true");
    const everything = `${request!.url}\n${JSON.stringify(request!.headers)}\n${request!.body}`.toUpperCase();
    assert.ok(!everything.includes(hash.slice(5, 12)), "no part of the suffix is sent");
    assert.ok(!everything.includes(BREACHED.toUpperCase()), "the password is not sent");
  });

  it("hashes the NFKC form, so a full-width spelling of a breached password is refused too", async () => {
    const fullwidth = "ｖｅｌｌｕｍ-ｌａｎｔｅｒｎ-ｏｔｔｅｒ-ｐｌｉｎｔｈ-９";
    await rejectsWith(policyWith("check").check(fullwidth, user), "invalid_password", /data breach/, fullwidth);
  });

  it("treats a padding entry (count 0) and an absent suffix as not breached", async () => {
    await policyWith("required").check(PADDED, user);
    await policyWith("required").check(CLEAN, user);
    assert.equal(api.seen.length, 2);
  });

  it("does not ask about a password the local rules already refuse", async () => {
    await assert.rejects(policyWith("required").check("1234567890123456", user), /invalid_password|too easy|common/);
    await assert.rejects(policyWith("required").check("short", user));
    assert.equal(api.seen.length, 0);
  });

  it("check mode fails open: unreachable, slow, failing or garbled answers accept it with a warning", async () => {
    const cases: [string, () => Promise<string>, Behaviour][] = [
      ["unreachable", closedPortUrl, "normal"],
      ["slow", async () => api.url, "hang"],
      ["HTTP 500", async () => api.url, "error"],
      ["not a range answer", async () => api.url, "garbage"],
    ];
    for (const [what, url, behaviour] of cases) {
      api.behaviour = behaviour;
      warnings.length = 0;
      const started = Date.now();
      await policyWith("check", await url(), 300).check(CLEAN, user);
      assert.ok(Date.now() - started < 10_000, `${what}: bounded by the timeout`);
      assert.equal(warnings.length, 1, `${what}: one warning`);
      assert.match(warnings[0]!, /breached-password check/i, what);
      const leaked = warnings[0]!.includes(CLEAN) || warnings[0]!.includes(sha1(CLEAN).slice(0, 5));
      assert.ok(!leaked, `${what}: no secret logged`);
    }
  });

  it("required mode fails closed: the same failures refuse with 503 unavailable and change nothing", async () => {
    const cases: [string, () => Promise<string>, Behaviour][] = [
      ["unreachable", closedPortUrl, "normal"],
      ["slow", async () => api.url, "hang"],
      ["HTTP 500", async () => api.url, "error"],
      ["not a range answer", async () => api.url, "garbage"],
    ];
    for (const [what, url, behaviour] of cases) {
      api.behaviour = behaviour;
      const check = policyWith("required", await url(), 300).check(CLEAN, user);
      await rejectsWith(check, "unavailable", /breached-password check/i, CLEAN).catch((error: unknown) => {
        throw new Error(`${what}: ${String(error)}`);
      });
    }
  });

  it("refuses bad breached-password options at creation, naming the option", () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ mode: "sometimes" }, "password.breached.mode"],
      [{ mode: "check", url: "ftp://127.0.0.1/range/" }, "password.breached.url"],
      [{ mode: "check", url: "not a url" }, "password.breached.url"],
      [{ mode: "check", url: "http://range.example.com/range/" }, "password.breached.url"],
      [{ mode: "check", timeoutMs: 0 }, "password.breached.timeoutMs"],
      [{ mode: "check", timeoutMs: 60_001 }, "password.breached.timeoutMs"],
      [{ mode: "check", timeoutMs: 1.5 }, "password.breached.timeoutMs"],
    ];
    for (const [breached, name] of cases) {
      assert.throws(
        () => resolveConfig({ password: { breached } } as GatehouseOptions),
        (error: unknown) =>
          error instanceof AuthError && error.code === "invalid_config" && error.message.includes(`"${name}"`),
        JSON.stringify(breached),
      );
    }
    const defaults = resolveConfig({ password: { breached: { mode: "check" } } }).password.breached;
    assert.equal(defaults.url, "https://api.pwnedpasswords.com/range/");
    assert.equal(defaults.timeoutMs, 2000);
  });
});
