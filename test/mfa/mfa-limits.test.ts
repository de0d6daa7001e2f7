import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { type JsonResponse, request, STRONG_PASSWORD } from "../helpers/http.ts";
import { SoftAuthenticator } from "../helpers/soft-authenticator.ts";
import { startTestServer, type TestServer } from "../helpers/test-server.ts";

type Body = Record<string, unknown>;
const DEAD_TOKEN = `ghmfa_${"A".repeat(43)}`;
const ORIGIN = "http://localhost:3000";

/**
 * The second login step and the passkey login routes are limited as logins are: every request
 * counts as an attempt from its address, and what fails (a dead mfa_token, a rejected passkey)
 * counts as a failed login of that address.
 */
describe("second-step and passkey login routes are throttled like login", () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  const call = (path: string, json: unknown) => request(`${server!.url}/auth${path}`, { method: "POST", json });
  const assertThrottled = (res: JsonResponse, what: string) => {
    assert.equal(res.status, 429, `${what}: ${res.text}`);
    assert.equal((res.body as Body)["error"], "too_many_requests");
    assert.match(res.headers.get("retry-after") ?? "", /^\d+$/);
  };

  it("attempts per address: /login/mfa, /webauthn/login/options and /webauthn/login/verify count like /login", async () => {
    for (const [path, body] of [
      ["/login/mfa", { mfa_token: DEAD_TOKEN, code: "123456" }],
      ["/webauthn/login/options", {}],
      [
        "/webauthn/login/verify",
        { response: new SoftAuthenticator({ origin: ORIGIN }).authenticate({ challenge: "x" }) },
      ],
    ] as const) {
      server = await startTestServer({
        loginRate: { perIp: { attempts: 3, windowSeconds: 60 }, perAccount: { attempts: 1000 } },
        loginThrottle: { perIp: { attempts: 1000 }, perAccountAndIp: { attempts: 1000 } },
      });
      for (let i = 0; i < 3; i++) assert.notEqual((await call(path, body)).status, 429, `${path} attempt ${i + 1}`);
      assertThrottled(await call(path, body), path);
      // The same budget as the password: the address used it up.
      assertThrottled(await call("/login", { username: "someone", password: STRONG_PASSWORD }), `/login after ${path}`);
      await server.close();
      server = undefined;
    }
  });

  it("a dead mfa_token and a rejected passkey count as failed logins of the address", async () => {
    server = await startTestServer({
      loginRate: { perIp: { attempts: 1000 }, perAccount: { attempts: 1000 } },
      loginThrottle: { perIp: { attempts: 4, windowSeconds: 600 }, perAccountAndIp: { attempts: 1000 } },
    });
    await call("/register", { username: "victim", password: STRONG_PASSWORD });
    for (let i = 0; i < 2; i++) {
      const dead = await call("/login/mfa", { mfa_token: DEAD_TOKEN, code: "123456" });
      assert.equal(dead.status, 401, dead.text);
      assert.equal((dead.body as Body)["error"], "invalid_grant");
    }
    for (let i = 0; i < 2; i++) {
      const options = (await call("/webauthn/login/options", {})).body as { challenge: string };
      const stranger = new SoftAuthenticator({ origin: ORIGIN });
      const rejected = await call("/webauthn/login/verify", { response: stranger.authenticate(options) });
      assert.equal(rejected.status, 401, rejected.text);
    }
    // Four failures from this address: the right password is refused here too.
    assertThrottled(await call("/login", { username: "victim", password: STRONG_PASSWORD }), "password login");
    assertThrottled(await call("/webauthn/login/options", {}), "passkey options");
    assertThrottled(await call("/login/mfa", { mfa_token: DEAD_TOKEN, code: "123456" }), "second step");
    const throttled = await server.auth.store.listAuditEvents({ type: "login_throttled", limit: 10 });
    assert.ok(throttled.length >= 1, "login_throttled is recorded");
  });
});
