import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { request, STRONG_PASSWORD } from "../helpers/http.ts";
import { startTestServer, type TestServer } from "../helpers/test-server.ts";
import { linkToken, startSmtpServer, type TestSmtpServer, to } from "./smtp-test-server.ts";

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

describe("address enumeration through forgot-password", () => {
  let smtp: TestSmtpServer;
  let server: TestServer;
  before(async () => {
    smtp = await startSmtpServer();
    server = await startTestServer({
      email: { smtpUrl: smtp.url, requestsPerAddressPerHour: 1000, requestsPerIpPerHour: 1_000_000 },
    });
    const email = "known@example.test";
    await request(`${server.url}/auth/register`, {
      method: "POST",
      json: { username: "known", password: STRONG_PASSWORD, email },
    });
    const [mail] = await smtp.waitFor(to(email));
    await request(`${server.url}/auth/email/verify`, { method: "POST", json: { token: linkToken(mail!, "verify") } });
  });
  after(async () => {
    await server.close();
    await smtp.stop();
  });

  it("a verified address and an unknown one: same status, body and headers, and the same work", async () => {
    const attempt = async (email: string) => {
      const started = performance.now();
      const res = await request(`${server.url}/auth/password/forgot`, { method: "POST", json: { email } });
      return { res, ms: performance.now() - started };
    };
    await attempt("known@example.test");
    await attempt("warm-up@example.test");
    const known: number[] = [];
    const unknown: number[] = [];
    const control: number[] = [];
    let first: Response | undefined;
    let firstText = "";
    let second: Response | undefined;
    let secondText = "";
    for (let i = 0; i < 30; i++) {
      const a = await attempt("KNOWN@example.test");
      const b = await attempt(`unknown-${i}@example.test`);
      // Refused by the shape check before any throttle or database work: the control.
      const c = await attempt("not an address");
      assert.equal(c.res.status, 400);
      known.push(a.ms);
      unknown.push(b.ms);
      control.push(c.ms);
      [first, firstText, second, secondText] = [
        a.res as unknown as Response,
        a.res.text,
        b.res as unknown as Response,
        b.res.text,
      ];
    }
    assert.equal(first!.status, 202);
    assert.equal(second!.status, 202);
    assert.equal(firstText, secondText);
    const headerNames = (h: Headers) => [...h.keys()].filter((k) => k !== "date").sort();
    assert.deepEqual(headerNames(first!.headers), headerNames(second!.headers));
    for (const name of headerNames(first!.headers))
      assert.equal(first!.headers.get(name), second!.headers.get(name), name);
    // The reset mails do go out for the known address (the work happens, just not on the request path).
    await smtp.waitFor((m) => to("known@example.test")(m) && m.parsed.subject === "Reset your password", 2, 20_000);

    const [knownMs, unknownMs, controlMs] = [median(known), median(unknown), median(control)];
    const medians =
      `medians: known ${knownMs.toFixed(2)} ms, unknown ${unknownMs.toFixed(2)} ms, ` +
      `refused before any work ${controlMs.toFixed(2)} ms`;
    console.log(medians);
    // Ratios of medians, not milliseconds: a loaded machine slows every request alike.
    assert.ok(Math.min(knownMs, unknownMs) > Math.max(knownMs, unknownMs) / 1.5, medians);
    // The control (no throttle, no transaction) bounds what the request path costs at all: both
    // paths stay within a small factor of it, so no lookup or mail work hides on either.
    assert.ok(Math.max(knownMs, unknownMs) < controlMs * 3, medians);
  });
});
