import assert from "node:assert/strict";
import type { Server } from "node:http";
import { after, before, describe, it } from "node:test";
import express from "express";
import { ManualClock } from "../../src/core/clock.ts";
import { totpCode } from "../../src/core/mfa/totp.ts";
import { listen } from "../../src/server/start-server.ts";
import { type JsonResponse, refreshCookieFrom, request, STRONG_PASSWORD } from "../helpers/http.ts";
import { startTestServer, type TestServer } from "../helpers/test-server.ts";

type Body = Record<string, unknown>;
const T0 = Date.UTC(2030, 0, 1); // a TOTP step boundary
const STEP = 30_000;

const amrOf = (accessToken: string): unknown =>
  JSON.parse(Buffer.from(accessToken.split(".")[1]!, "base64url").toString("utf8"))["amr"];

describe("TOTP and the two-step login over HTTP", () => {
  const clock = new ManualClock(T0);
  let server: TestServer;
  let guarded: { server: Server; url: string };

  const post = (path: string, json: unknown, token?: string) =>
    request(`${server.url}/auth${path}`, {
      method: "POST",
      json,
      ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}),
    });
  const register = (username: string) => post("/register", { username, password: STRONG_PASSWORD });
  const login = (username: string, password = STRONG_PASSWORD) => post("/login", { username, password });
  const accessTokenOf = (res: JsonResponse) => (res.body as Body)["access_token"] as string;
  const nextStep = () => clock.advance(STEP);

  /** Registers, logs in, enrols and confirms TOTP; answers the secret, the codes and a live token. */
  async function userWithTotp(username: string) {
    await register(username);
    const token = accessTokenOf(await login(username));
    const enrolment = await post("/mfa/totp", {}, token);
    assert.equal(enrolment.status, 200, enrolment.text);
    const secret = (enrolment.body as Body)["secret"] as string;
    const confirmed = await post("/mfa/totp/confirm", { code: totpCode(secret, clock.now()) }, token);
    assert.equal(confirmed.status, 200, confirmed.text);
    nextStep();
    return { secret, codes: (confirmed.body as Body)["recovery_codes"] as string[], token };
  }

  async function mfaTokenFor(username: string): Promise<string> {
    const res = await login(username);
    assert.equal(res.status, 200, res.text);
    return (res.body as Body)["mfa_token"] as string;
  }

  before(async () => {
    // Far more logins from 127.0.0.1 than one address gets a minute: the attempt limits have their own tests.
    server = await startTestServer({
      clock,
      cookie: { secure: false },
      loginRate: { perIp: { attempts: 10_000 }, perAccount: { attempts: 10_000 } },
    });
    const app = express();
    app.get("/needs-mfa", server.auth.requireAuth({ mfa: true }), (req, res) => {
      res.json({ amr: req.auth!.amr });
    });
    guarded = await listen(app, 0, "127.0.0.1");
  });
  after(async () => {
    guarded.server.closeAllConnections();
    await new Promise<void>((resolve) => guarded.server.close(() => resolve()));
    await server.close();
  });

  it("enrols: a secret and otpauth URI, not active until confirmed; confirming yields 10 distinct recovery codes", async () => {
    await register("ada");
    const token = accessTokenOf(await login("ada"));
    assert.deepEqual(amrOf(token), ["pwd"]);
    const enrolment = await post("/mfa/totp", {}, token);
    assert.equal(enrolment.status, 200);
    assert.equal(enrolment.headers.get("cache-control"), "no-store");
    const { secret, otpauth_uri: uri } = enrolment.body as { secret: string; otpauth_uri: string };
    assert.match(secret, /^[A-Z2-7]{32}$/);
    assert.match(uri, /^otpauth:\/\/totp\/gatehouse:ada\?/);
    // Pending: the password alone still logs in.
    assert.equal(typeof ((await login("ada")).body as Body)["access_token"], "string");

    const wrong = await post("/mfa/totp/confirm", { code: "000000" }, token);
    assert.equal(wrong.status, 401);
    assert.equal((wrong.body as Body)["error"], "invalid_credentials");
    const confirmed = await post("/mfa/totp/confirm", { code: totpCode(secret, clock.now()) }, token);
    assert.equal(confirmed.status, 200);
    const codes = (confirmed.body as Body)["recovery_codes"] as string[];
    assert.equal(codes.length, 10);
    assert.equal(new Set(codes).size, 10);
    for (const code of codes) assert.match(code, /^[A-Z2-7]{5}-[A-Z2-7]{5}$/);
    assert.equal((await post("/mfa/totp", {}, token)).status, 400, "a second enrolment waits for removal");
    assert.ok(!server.logs.join("\n").includes(secret), "the secret is never logged");
  });

  it("confirming ends the user's other sessions but keeps the current one", async () => {
    await register("grace");
    const first = await login("grace");
    const other = refreshCookieFrom(first.headers, "gatehouse_refresh")!;
    const current = await login("grace");
    const token = accessTokenOf(current);
    const secret = ((await post("/mfa/totp", {}, token)).body as Body)["secret"] as string;
    assert.equal((await post("/mfa/totp/confirm", { code: totpCode(secret, clock.now()) }, token)).status, 200);
    nextStep();
    assert.equal((await post("/refresh", { refresh_token: other })).status, 401);
    const me = await request(`${server.url}/auth/me`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(me.status, 200);
  });

  it("login answers mfa_required with no token and no cookie; the right code finishes with amr pwd+otp+mfa", async () => {
    const { secret } = await userWithTotp("linus");
    const first = await login("linus");
    assert.equal(first.status, 200);
    const body = first.body as Body;
    assert.equal(body["mfa_required"], true);
    assert.deepEqual(body["methods"], ["totp", "recovery_code"]);
    assert.match(body["mfa_token"] as string, /^ghmfa_[A-Za-z0-9_-]{43}$/);
    assert.equal(body["access_token"], undefined);
    assert.deepEqual(first.headers.getSetCookie(), []);

    const done = await post("/login/mfa", { mfa_token: body["mfa_token"], code: totpCode(secret, clock.now()) });
    assert.equal(done.status, 200, done.text);
    assert.ok(refreshCookieFrom(done.headers, "gatehouse_refresh"), "the same cookie as a login");
    const token = accessTokenOf(done);
    assert.deepEqual(amrOf(token), ["pwd", "otp", "mfa"]);
    const guardedRes = await request(`${guarded.url}/needs-mfa`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(guardedRes.status, 200);

    // Refresh keeps the session's amr.
    const refreshed = await request(`${server.url}/auth/refresh`, {
      method: "POST",
      json: {},
      headers: {
        cookie: `gatehouse_refresh=${refreshCookieFrom(done.headers, "gatehouse_refresh")}`,
        origin: server.url,
      },
    });
    assert.equal(refreshed.status, 200, refreshed.text);
    assert.deepEqual(amrOf(accessTokenOf(refreshed)), ["pwd", "otp", "mfa"]);
  });

  it("requireAuth({ mfa: true }) answers 401 insufficient_user_authentication (RFC 9470) to a password-only token", async () => {
    await register("rita");
    const token = accessTokenOf(await login("rita"));
    const res = await request(`${guarded.url}/needs-mfa`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 401);
    assert.equal((res.body as Body)["error"], "insufficient_user_authentication");
    assert.match(
      res.headers.get("www-authenticate") ?? "",
      /^Bearer realm="gatehouse", error="insufficient_user_authentication", error_description="[^"]+"$/,
    );
  });

  it("a wrong password answers exactly as for an account without a factor", async () => {
    await userWithTotp("mfa-user");
    await register("plain-user");
    const [withFactor, without] = await Promise.all([
      login("mfa-user", "wrong password!"),
      login("plain-user", "wrong password!"),
    ]);
    assert.equal(withFactor.status, 401);
    assert.equal(withFactor.text, without.text);
  });

  it("a code works once: replay in the same step, or a code of an earlier step, is refused", async () => {
    const { secret } = await userWithTotp("replay");
    const code = totpCode(secret, clock.now());
    assert.equal((await post("/login/mfa", { mfa_token: await mfaTokenFor("replay"), code })).status, 200);
    const again = await post("/login/mfa", { mfa_token: await mfaTokenFor("replay"), code });
    assert.equal(again.status, 401);
    assert.equal((again.body as Body)["error"], "invalid_credentials");
    nextStep();
    const earlier = await post("/login/mfa", { mfa_token: await mfaTokenFor("replay"), code });
    assert.equal(earlier.status, 401, "the previous step's code is inside the skew window but already used");
    const fresh = totpCode(secret, clock.now());
    assert.equal((await post("/login/mfa", { mfa_token: await mfaTokenFor("replay"), code: fresh })).status, 200);
  });

  it("a recovery code works once, in any case and spacing, with amr pwd+mfa; regenerating voids the old ones", async () => {
    const { codes, token } = await userWithTotp("recover");
    const code = codes[3]!;
    const loose = ` ${code.toLowerCase().replace("-", " ")} `;
    const done = await post("/login/mfa", { mfa_token: await mfaTokenFor("recover"), recovery_code: loose });
    assert.equal(done.status, 200, done.text);
    assert.deepEqual(amrOf(accessTokenOf(done)), ["pwd", "mfa"]);
    const reused = await post("/login/mfa", { mfa_token: await mfaTokenFor("recover"), recovery_code: code });
    assert.equal(reused.status, 401);

    assert.equal((await post("/mfa/recovery-codes", { current_password: "wrong password!" }, token)).status, 401);
    const fresh = await post("/mfa/recovery-codes", { current_password: STRONG_PASSWORD }, token);
    assert.equal(fresh.status, 200);
    const newCodes = (fresh.body as Body)["recovery_codes"] as string[];
    assert.equal(newCodes.length, 10);
    const old = await post("/login/mfa", { mfa_token: await mfaTokenFor("recover"), recovery_code: codes[0] });
    assert.equal(old.status, 401);
    const ok = await post("/login/mfa", { mfa_token: await mfaTokenFor("recover"), recovery_code: newCodes[0] });
    assert.equal(ok.status, 200);
  });

  it("the mfa_token is neither a bearer token nor a refresh token, and dies after use or 5 minutes", async () => {
    const { secret } = await userWithTotp("misuse");
    const mfaToken = await mfaTokenFor("misuse");
    const asBearer = await request(`${server.url}/auth/me`, { headers: { authorization: `Bearer ${mfaToken}` } });
    assert.equal(asBearer.status, 401);
    assert.equal((asBearer.body as Body)["error"], "invalid_token");
    const asRefresh = await post("/refresh", { refresh_token: mfaToken });
    assert.equal(asRefresh.status, 401);
    assert.equal((asRefresh.body as Body)["error"], "invalid_grant");

    assert.equal((await post("/login/mfa", { mfa_token: mfaToken, code: totpCode(secret, clock.now()) })).status, 200);
    nextStep();
    const reused = await post("/login/mfa", { mfa_token: mfaToken, code: totpCode(secret, clock.now()) });
    assert.equal(reused.status, 401);
    assert.equal((reused.body as Body)["error"], "invalid_grant");

    const late = await mfaTokenFor("misuse");
    clock.advance(300_000);
    const expired = await post("/login/mfa", { mfa_token: late, code: totpCode(secret, clock.now()) });
    assert.equal(expired.status, 401);
    assert.equal((expired.body as Body)["error"], "invalid_grant");
    nextStep();
  });

  it("10 wrong codes in parallel: at most 5 are checked, and the right code after them is refused", async () => {
    const { secret } = await userWithTotp("burst");
    const mfaToken = await mfaTokenFor("burst");
    const wrong = await Promise.all(
      Array.from({ length: 10 }, (_, i) => post("/login/mfa", { mfa_token: mfaToken, code: String(100000 + i) })),
    );
    const checked = wrong.filter((r) => (r.body as Body)["error"] === "invalid_credentials").length;
    const refused = wrong.filter((r) => (r.body as Body)["error"] === "invalid_grant").length;
    assert.ok(checked <= 5, `checked ${checked}`);
    assert.equal(checked + refused + wrong.filter((r) => r.status === 429).length, 10);
    const right = await post("/login/mfa", { mfa_token: mfaToken, code: totpCode(secret, clock.now()) });
    assert.equal(right.status, 401);
    assert.equal((right.body as Body)["error"], "invalid_grant");
  });

  it("wrong codes count toward the login throttle, and a right password in between clears nothing", async () => {
    await userWithTotp("throttled");
    // The default allows 10 failures per account and address.
    for (let round = 0; round < 2; round++) {
      const mfaToken = await mfaTokenFor("throttled");
      for (let i = 0; i < 5; i++) {
        const res = await post("/login/mfa", { mfa_token: mfaToken, code: "000000" });
        assert.equal(res.status, 401);
      }
    }
    const res = await login("throttled");
    assert.equal(res.status, 429);
    assert.equal((res.body as Body)["error"], "too_many_requests");
  });

  it("bad bodies are 400 and a malformed mfa_token is invalid_grant, never 5xx", async () => {
    const mfaToken = "ghmfa_" + "A".repeat(43);
    for (const json of [
      {},
      { mfa_token: mfaToken },
      { mfa_token: mfaToken, code: "123456", recovery_code: "AAAAA-BBBBB" },
      { mfa_token: 5, code: "123456" },
      { mfa_token: mfaToken, code: "1".repeat(100) },
      { mfa_token: mfaToken, code: "12\u000034" },
      { mfa_token: mfaToken, code: "123456", extra: true },
    ]) {
      const res = await post("/login/mfa", json);
      assert.equal(res.status, 400, JSON.stringify(json));
      assert.equal((res.body as Body)["error"], "invalid_request");
    }
    for (const token of [mfaToken, "nonsense", "ghmfa_short"]) {
      const res = await post("/login/mfa", { mfa_token: token, code: "123456" });
      assert.equal(res.status, 401);
      assert.equal((res.body as Body)["error"], "invalid_grant");
    }
  });

  it("enrolling on an old login needs the password; removal needs it and ends other sessions", async () => {
    await register("old-login");
    const token = accessTokenOf(await login("old-login"));
    clock.advance(11 * 60_000);
    const stale = await post("/mfa/totp", {}, token);
    assert.equal(stale.status, 401);
    assert.equal((stale.body as Body)["error"], "insufficient_user_authentication");
    assert.equal((await post("/mfa/totp", { current_password: "wrong password!" }, token)).status, 401);
    const enrolled = await post("/mfa/totp", { current_password: STRONG_PASSWORD }, token);
    assert.equal(enrolled.status, 200);
    const secret = (enrolled.body as Body)["secret"] as string;
    assert.equal((await post("/mfa/totp/confirm", { code: totpCode(secret, clock.now()) }, token)).status, 200);
    nextStep();

    const second = await post("/login/mfa", {
      mfa_token: await mfaTokenFor("old-login"),
      code: totpCode(secret, clock.now()),
      token_transport: "body",
    });
    const otherRefresh = (second.body as Body)["refresh_token"] as string;
    const remove = (current_password: string) =>
      request(`${server.url}/auth/mfa/totp`, {
        method: "DELETE",
        json: { current_password },
        headers: { authorization: `Bearer ${token}` },
      });
    assert.equal((await remove("wrong password!")).status, 401);
    assert.equal((await remove(STRONG_PASSWORD)).status, 204);
    assert.equal((await post("/refresh", { refresh_token: otherRefresh })).status, 401, "other sessions ended");
    assert.equal(typeof ((await login("old-login")).body as Body)["access_token"], "string", "one step again");
    assert.equal((await remove(STRONG_PASSWORD)).status, 404);
  });
});
