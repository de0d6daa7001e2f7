import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ManualClock } from "../../src/core/clock.ts";
import { totpCode } from "../../src/core/mfa/totp.ts";
import type { AuditEventRecord } from "../../src/core/store/store.ts";
import { type JsonResponse, request, STRONG_PASSWORD } from "../helpers/http.ts";
import { SoftAuthenticator } from "../helpers/soft-authenticator.ts";
import { startTestServer, type TestServer } from "../helpers/test-server.ts";

type Body = Record<string, unknown>;
const T0 = Date.UTC(2030, 0, 1);
const STEP = 30_000;
const ORIGIN = "http://localhost:3000";

describe("second factors in the audit trail and GET /auth/activity", () => {
  const clock = new ManualClock(T0);
  let server: TestServer;

  const call = (method: string, path: string, json?: unknown, token?: string) =>
    request(`${server.url}/auth${path}`, {
      method,
      ...(json === undefined ? {} : { json }),
      headers: { "user-agent": "events-test", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    });
  const tokenOf = (res: JsonResponse) => (res.body as Body)["access_token"] as string;
  const eventsOf = async (userId: string): Promise<AuditEventRecord[]> =>
    (await server.auth.store.listAuditEvents({ userId, limit: 100 })).reverse();

  /** A user with TOTP on; answers the id, the secret and a password-only token. */
  async function userWithTotp(username: string) {
    const registered = await call("POST", "/register", { username, password: STRONG_PASSWORD });
    const id = ((registered.body as Body)["user"] as Body)["id"] as string;
    const token = tokenOf(await call("POST", "/login", { username, password: STRONG_PASSWORD }));
    const secret = ((await call("POST", "/mfa/totp", {}, token)).body as Body)["secret"] as string;
    const confirmed = await call("POST", "/mfa/totp/confirm", { code: totpCode(secret, clock.now()) }, token);
    assert.equal(confirmed.status, 200, confirmed.text);
    clock.advance(STEP);
    return { id, secret, token };
  }

  before(async () => {
    server = await startTestServer({
      clock,
      loginRate: { perIp: { attempts: 10_000 }, perAccount: { attempts: 10_000 } },
    });
  });
  after(() => server.close());

  it("a login finished by a code records login_succeeded with its session; a wrong code records login_failed", async () => {
    const { id, secret } = await userWithTotp("audit.totp");
    const first = await call("POST", "/login", { username: "audit.totp", password: STRONG_PASSWORD });
    const mfaToken = (first.body as Body)["mfa_token"] as string;
    const wrong = await call("POST", "/login/mfa", { mfa_token: mfaToken, code: "000000" });
    assert.equal(wrong.status, 401);
    const right = await call("POST", "/login/mfa", { mfa_token: mfaToken, code: totpCode(secret, clock.now()) });
    assert.equal(right.status, 200, right.text);
    const me = await call("GET", "/me", undefined, tokenOf(right));
    const sessionId = (me.body as Body)["session_id"] as string;

    const events = await eventsOf(id);
    const types = events.map((e) => e.type);
    assert.deepEqual(types, ["user_registered", "login_succeeded", "mfa_enabled", "login_failed", "login_succeeded"]);
    const failed = events[3]!;
    assert.deepEqual(failed.data, { reason: "wrong_second_factor" });
    assert.deepEqual([failed.ip, failed.userAgent], ["127.0.0.1", "events-test"]);
    const succeeded = events[4]!;
    assert.equal(succeeded.sessionId, sessionId);
    assert.deepEqual([succeeded.ip, succeeded.userAgent], ["127.0.0.1", "events-test"]);
    const enabled = events[2]!;
    assert.deepEqual([enabled.ip, enabled.userAgent], ["127.0.0.1", "events-test"]);
    assert.equal(enabled.data["method"], "totp");
    const serialized = JSON.stringify(events);
    assert.ok(!serialized.includes(secret) && !serialized.includes(mfaToken), "no secret or token in the trail");
  });

  it("GET /auth/activity shows mfa_enabled and mfa_disabled with their method", async () => {
    const { token } = await userWithTotp("audit.activity");
    const removed = await call("DELETE", "/mfa/totp", { current_password: STRONG_PASSWORD }, token);
    assert.equal(removed.status, 204, removed.text);
    const page = (await call("GET", "/activity", undefined, token)).body as {
      events: { type: string; details: Body; user_agent: string | null }[];
    };
    const [disabled, enabled] = page.events;
    assert.equal(disabled?.type, "mfa_disabled");
    assert.equal(disabled?.details["method"], "totp");
    assert.equal(disabled?.user_agent, "events-test");
    assert.equal(enabled?.type, "mfa_enabled");
    assert.equal(enabled?.details["method"], "totp");
  });

  it("passkeys: adding, logging in alone, a forged assertion and removal are all in the trail", async () => {
    const registered = await call("POST", "/register", { username: "audit.passkey", password: STRONG_PASSWORD });
    const id = ((registered.body as Body)["user"] as Body)["id"] as string;
    const token = tokenOf(await call("POST", "/login", { username: "audit.passkey", password: STRONG_PASSWORD }));
    const authenticator = new SoftAuthenticator({ origin: ORIGIN });
    const options = (await call("POST", "/webauthn/register/options", {}, token)).body as {
      challenge: string;
      user: { id: string };
    };
    const added = await call("POST", "/webauthn/register/verify", { response: authenticator.register(options) }, token);
    assert.equal(added.status, 201, added.text);

    const loginOptions = (await call("POST", "/webauthn/login/options", {})).body as { challenge: string };
    const loggedIn = await call("POST", "/webauthn/login/verify", {
      response: authenticator.authenticate(loginOptions),
    });
    assert.equal(loggedIn.status, 200, loggedIn.text);

    const stranger = new SoftAuthenticator({ origin: ORIGIN });
    const forgedOptions = (await call("POST", "/webauthn/login/options", {})).body as { challenge: string };
    const forged = await call("POST", "/webauthn/login/verify", { response: stranger.authenticate(forgedOptions) });
    assert.equal(forged.status, 401);

    const removed = await call(
      "DELETE",
      `/webauthn/credentials/${authenticator.id}`,
      { current_password: STRONG_PASSWORD },
      tokenOf(loggedIn),
    );
    assert.equal(removed.status, 204, removed.text);

    const events = await eventsOf(id);
    assert.deepEqual(
      events.map((e) => e.type),
      ["user_registered", "login_succeeded", "mfa_enabled", "login_succeeded", "mfa_disabled"],
    );
    assert.equal(events[2]!.data["method"], "passkey");
    assert.equal(events[4]!.data["method"], "passkey");
    const anonymous = await server.auth.store.listAuditEvents({ limit: 100 });
    const rejected = anonymous.filter((e) => e.type === "login_failed" && e.data["reason"] === "passkey_rejected");
    assert.equal(rejected.length, 1, "the forged assertion is recorded, with no account");
    assert.equal(rejected[0]!.userId, null);
  });
});
