import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { request, STRONG_PASSWORD } from "../helpers/http.ts";
import { startTestServer, type TestServer } from "../helpers/test-server.ts";

describe("usernames over HTTP: register and login normalise the same way", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  const register = (username: string) =>
    request(`${server.url}/auth/register`, { method: "POST", json: { username, password: STRONG_PASSWORD } });
  const login = (username: string) =>
    request(`${server.url}/auth/login`, { method: "POST", json: { username, password: STRONG_PASSWORD } });

  it("a lookalike of an existing account is refused with 400 invalid_request, not created", async () => {
    assert.equal((await register("paypal")).status, 201);
    for (const lookalike of ["p\u0430ypal", "pay\u200Dpal", "paypal\u3164", "paypal\uFE0F", "\u202Elapyap"]) {
      const res = await register(lookalike);
      assert.equal(res.status, 400, JSON.stringify(lookalike));
      assert.equal((res.body as { error: string }).error, "invalid_request");
    }
    assert.equal((await register("PayPal")).status, 409, "the same name in another case is taken");
  });

  it("login finds the account under every form register would have mapped to it", async () => {
    for (const form of ["paypal", "PAYPAL", "  PayPal  ", "ｐａｙｐａｌ"]) {
      assert.equal((await login(form)).status, 200, JSON.stringify(form));
    }
  });

  it("login with a lookalike or invisible variant is a plain failed login", async () => {
    for (const form of ["p\u0430ypal", "pay\u200Bpal", "paypal\u3164"]) {
      const res = await login(form);
      assert.equal(res.status, 401, JSON.stringify(form));
      assert.equal((res.body as { error: string }).error, "invalid_credentials");
    }
  });
});
