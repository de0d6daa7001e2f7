import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ManualClock } from "../../src/core/clock.ts";
import { refreshCookieFrom, request, STRONG_PASSWORD } from "../helpers/http.ts";
import { startTestServer, type TestServer } from "../helpers/test-server.ts";
import {
  linkToken,
  type ReceivedMail,
  SMTP_PASSWORD,
  startSmtpServer,
  type TestSmtpServer,
  to,
} from "./smtp-test-server.ts";

const PUBLIC_URL = "https://app.example.test";
const NEW_PASSWORD = "a brand new passphrase for 2030";
const post = (url: string, json: unknown, headers: Record<string, string> = {}) =>
  request(url, { method: "POST", json, headers });

describe("email: verified addresses and recovery over real SMTP", () => {
  let smtp: TestSmtpServer;
  let server: TestServer;
  const clock = new ManualClock(Date.UTC(2030, 0, 1));
  let n = 0;
  const fresh = (label: string) => {
    n += 1;
    return { username: `${label}${n}`, email: `${label}${n}@Example.test` };
  };
  const register = (body: Record<string, unknown>) =>
    post(`${server.url}/auth/register`, { password: STRONG_PASSWORD, ...body });
  const login = async (body: Record<string, unknown>) => {
    const response = await post(`${server.url}/auth/login`, body);
    return { response, token: (response.body as { access_token?: string } | null)?.access_token };
  };
  const bearer = (token: string | undefined) => ({ authorization: `Bearer ${token}` });
  const me = async (token: string | undefined) =>
    (await request(`${server.url}/auth/me`, { headers: bearer(token) })).body as {
      user: { email: string | null; email_verified: boolean };
    };
  /** Signs up with an address and verifies it; answers the access token. */
  const verifiedUser = async (label: string) => {
    const who = fresh(label);
    assert.equal((await register(who)).status, 201);
    const [mail] = await smtp.waitFor(to(who.email));
    assert.equal((await post(`${server.url}/auth/email/verify`, { token: linkToken(mail!, "verify") })).status, 204);
    const { token } = await login({ username: who.username, password: STRONG_PASSWORD });
    return { ...who, token };
  };

  before(async () => {
    smtp = await startSmtpServer();
    server = await startTestServer({
      clock,
      publicUrl: PUBLIC_URL,
      email: { smtpUrl: smtp.url, from: "Example Auth <auth@example.test>" },
    });
  });
  after(async () => {
    await server.close();
    await smtp.stop();
  });

  it("sign-up with an address mails a verification link with text and HTML parts and nothing else secret", async () => {
    const who = fresh("ada");
    const response = await register(who);
    assert.equal(response.status, 201);
    assert.deepEqual(Object.keys((response.body as { user: object }).user).sort(), ["id", "username"]);
    const [mail] = await smtp.waitFor(to(who.email));
    const parsed = mail!.parsed;
    assert.equal(parsed.subject, "Confirm your email address");
    assert.equal(parsed.from?.value[0]?.address, "auth@example.test");
    assert.deepEqual(mail!.rcptTo, ["ada1@example.test"]);
    assert.equal(mail!.user, "mailer", "logged in to the SMTP server with the URL's credentials");
    assert.equal(parsed.headers.get("auto-submitted"), "auto-generated");
    assert.match(String(parsed.messageId), /^<[0-9a-f-]{36}@example\.test>$/);
    const token = linkToken(mail!, "verify");
    assert.equal(token.length, 43, "256 random bits in base64url");
    assert.ok(parsed.text?.includes(`${PUBLIC_URL}/#verify=${token}`), "the token rides in the fragment");
    assert.ok(typeof parsed.html === "string" && parsed.html.includes(`${PUBLIC_URL}/#verify=${token}`));
    assert.ok(!parsed.text?.includes("?"), "no query string: the token never reaches a server log or Referer");
    for (const secret of [STRONG_PASSWORD, SMTP_PASSWORD]) assert.ok(!mail!.raw.includes(secret));
    // The token appears in the link only (text part, HTML button and its copy): never as a header.
    assert.ok(![...parsed.headers.values()].some((value) => JSON.stringify(value).includes(token)));

    const { token: access } = await login({ email: who.email.toUpperCase(), password: STRONG_PASSWORD });
    assert.deepEqual((await me(access)).user, {
      id: (response.body as { user: { id: string } }).user.id,
      username: who.username,
      email: who.email,
      email_verified: false,
    });
    assert.equal((await post(`${server.url}/auth/email/verify`, { token })).status, 204);
    assert.equal((await me(access)).user.email_verified, true);
    const again = await post(`${server.url}/auth/email/verify`, { token });
    assert.equal(again.status, 400);
    assert.equal((again.body as { error: string }).error, "invalid_link");
  });

  it("a taken address: the same answer, no address for the newcomer, a notice to the owner", async () => {
    const owner = await verifiedUser("owner");
    const before = smtp.received.length;
    const copycat = await register({ username: `copy${n}`, email: ` ${owner.email.toUpperCase()} ` });
    assert.equal(copycat.status, 201);
    assert.deepEqual(Object.keys((copycat.body as { user: object }).user).sort(), ["id", "username"]);
    const notices = await smtp.waitFor(
      (mail) => to(owner.email)(mail) && mail.parsed.subject !== "Confirm your email address",
    );
    assert.equal(notices.length, 1);
    assert.equal(notices[0]!.parsed.subject, "Someone tried to use your email address");
    assert.ok(!/#(verify|reset)=/.test(notices[0]!.parsed.text ?? ""));
    const { token } = await login({ username: `copy${n}`, password: STRONG_PASSWORD });
    assert.equal((await me(token)).user.email, null);
    assert.equal(smtp.received.length, before + 1);
  });

  it("login takes username or email, exactly one; addresses are shape-checked and bounded", async () => {
    const who = await verifiedUser("login");
    assert.equal((await login({ email: who.email, password: STRONG_PASSWORD })).response.status, 200);
    for (const body of [
      { username: who.username, email: who.email, password: STRONG_PASSWORD },
      { password: STRONG_PASSWORD },
    ]) {
      const { response } = await login(body);
      assert.equal(response.status, 400);
      assert.equal((response.body as { error: string }).error, "invalid_request");
    }
    const wrong = await login({ email: who.email, password: "wrong password for sure 123" });
    const unknown = await login({ email: "nobody@example.test", password: "wrong password for sure 123" });
    assert.deepEqual([wrong.response.status, unknown.response.status], [401, 401]);
    assert.deepEqual(wrong.response.body, unknown.response.body);
    for (const email of [
      "no-at-sign",
      "a@b",
      "two@@example.test",
      `${"x".repeat(250)}@example.test`,
      "a b@example.test",
    ]) {
      const response = await register({ username: `bad${++n}`, email });
      assert.equal(response.status, 400, email);
      assert.equal((response.body as { error: string }).error, "invalid_request");
    }
  });

  it("forgot → reset: policy applies, every session ends, notice mailed, link single use", async () => {
    const who = await verifiedUser("reset");
    const loggedIn = await post(`${server.url}/auth/login`, { username: who.username, password: STRONG_PASSWORD });
    const cookie = refreshCookieFrom(loggedIn.headers);
    const forgot = await post(`${server.url}/auth/password/forgot`, { email: who.email });
    assert.equal(forgot.status, 202);
    assert.equal(forgot.text, "");
    const [mail] = await smtp.waitFor((m) => to(who.email)(m) && m.parsed.subject === "Reset your password");
    const token = linkToken(mail!, "reset");
    assert.ok(mail!.parsed.text?.includes(`${PUBLIC_URL}/#reset=${token}`));

    const weak = await post(`${server.url}/auth/password/reset`, { token, new_password: "password" });
    assert.equal(weak.status, 400);
    assert.equal((weak.body as { error: string }).error, "invalid_password");
    assert.equal((await post(`${server.url}/auth/password/reset`, { token, new_password: NEW_PASSWORD })).status, 204);
    const reused = await post(`${server.url}/auth/password/reset`, { token, new_password: NEW_PASSWORD });
    assert.equal((reused.body as { error: string }).error, "invalid_link");

    const refresh = await request(`${server.url}/auth/refresh`, {
      method: "POST",
      json: {},
      headers: { cookie: `__Secure-gatehouse_refresh=${cookie}`, origin: server.url },
    });
    assert.equal(refresh.status, 401, "every session ended");
    assert.equal((await request(`${server.url}/auth/me`, { headers: bearer(who.token) })).status, 401);
    assert.equal((await login({ email: who.email, password: STRONG_PASSWORD })).response.status, 401);
    assert.equal((await login({ email: who.email, password: NEW_PASSWORD })).response.status, 200);
    const [notice] = await smtp.waitFor((m) => to(who.email)(m) && m.parsed.subject === "Your password was reset");
    assert.ok(!/#(verify|reset)=/.test(notice!.parsed.text ?? ""));
  });

  it("a newer link voids the older one; links expire (30 min reset, 24 h verify); junk is invalid_link", async () => {
    const who = await verifiedUser("void");
    const isReset = (m: ReceivedMail) => to(who.email)(m) && m.parsed.subject === "Reset your password";
    await post(`${server.url}/auth/password/forgot`, { email: who.email });
    const [first] = await smtp.waitFor(isReset);
    await post(`${server.url}/auth/password/forgot`, { email: who.email });
    const both = await smtp.waitFor(isReset, 2);
    const older = linkToken(first!, "reset");
    const newer = linkToken(both.find((m) => m !== first)!, "reset");
    const old = await post(`${server.url}/auth/password/reset`, { token: older, new_password: NEW_PASSWORD });
    assert.equal((old.body as { error: string }).error, "invalid_link");
    clock.advance(30 * 60_000 + 1);
    const late = await post(`${server.url}/auth/password/reset`, { token: newer, new_password: NEW_PASSWORD });
    assert.equal((late.body as { error: string }).error, "invalid_link");

    const pending = fresh("late");
    await register(pending);
    const [verify] = await smtp.waitFor(to(pending.email));
    clock.advance(24 * 3600_000 + 1);
    const expired = await post(`${server.url}/auth/email/verify`, { token: linkToken(verify!, "verify") });
    assert.equal((expired.body as { error: string }).error, "invalid_link");
    for (const token of ["", "x".repeat(43), "not a token", "a".repeat(600)]) {
      const response = await post(`${server.url}/auth/email/verify`, { token });
      assert.equal(response.status, 400);
    }
    // A verify link is no reset link.
    const third = fresh("cross");
    await register(third);
    const [crossMail] = await smtp.waitFor(to(third.email));
    const cross = await post(`${server.url}/auth/password/reset`, {
      token: linkToken(crossMail!, "verify"),
      new_password: NEW_PASSWORD,
    });
    assert.equal((cross.body as { error: string }).error, "invalid_link");
  });

  it("forgot for an unknown or unverified address answers the same 202 and sends nothing", async () => {
    const unverified = fresh("unv");
    await register(unverified);
    await smtp.waitFor(to(unverified.email));
    const before = smtp.received.length;
    const answers = [];
    for (const email of ["ghost@example.test", unverified.email]) {
      const response = await post(`${server.url}/auth/password/forgot`, { email });
      answers.push({ status: response.status, text: response.text, type: response.headers.get("content-type") });
    }
    assert.deepEqual(answers[0], answers[1]);
    assert.equal(answers[0]!.status, 202);
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(smtp.received.length, before);
  });

  it("change address: password required, link to the new, notice to the old, effective when verified", async () => {
    const who = await verifiedUser("move");
    const target = `moved${n}@example.test`;
    const wrong = await post(
      `${server.url}/auth/email`,
      { email: target, current_password: "not my password 1234" },
      bearer(who.token),
    );
    assert.equal(wrong.status, 401);
    const ok = await post(
      `${server.url}/auth/email`,
      { email: target, current_password: STRONG_PASSWORD },
      bearer(who.token),
    );
    assert.equal(ok.status, 202);
    const [link] = await smtp.waitFor(to(target));
    const [notice] = await smtp.waitFor((m) => to(who.email)(m) && (m.parsed.subject ?? "").includes("being changed"));
    assert.ok(notice!.parsed.text?.includes(target));
    assert.equal((await me(who.token)).user.email, who.email, "nothing changes before the new address is verified");
    assert.equal((await post(`${server.url}/auth/email/verify`, { token: linkToken(link!, "verify") })).status, 204);
    assert.deepEqual((await me(who.token)).user.email, target);
    assert.equal((await me(who.token)).user.email_verified, true);
    // Another account's address: the same 202, and its owner is told.
    const other = await verifiedUser("taken");
    const steal = await post(
      `${server.url}/auth/email`,
      { email: other.email, current_password: STRONG_PASSWORD },
      bearer(who.token),
    );
    assert.equal(steal.status, 202);
    await smtp.waitFor((m) => to(other.email)(m) && m.parsed.subject === "Someone tried to use your email address");
  });

  it("resend mails a new link and voids the old; notices on password change and refresh-token reuse", async () => {
    const who = fresh("resend");
    await register(who);
    const [first] = await smtp.waitFor(to(who.email));
    const { token } = await login({ username: who.username, password: STRONG_PASSWORD });
    assert.equal((await post(`${server.url}/auth/email/resend`, {}, bearer(token))).status, 202);
    const both = await smtp.waitFor(to(who.email), 2);
    const old = await post(`${server.url}/auth/email/verify`, { token: linkToken(first!, "verify") });
    assert.equal((old.body as { error: string }).error, "invalid_link");
    assert.equal((await post(`${server.url}/auth/email/verify`, { token: linkToken(both[1]!, "verify") })).status, 204);

    const changed = await post(
      `${server.url}/auth/password`,
      { current_password: STRONG_PASSWORD, new_password: NEW_PASSWORD },
      bearer(token),
    );
    assert.equal(changed.status, 204);
    await smtp.waitFor((m) => to(who.email)(m) && m.parsed.subject === "Your password was changed");

    const grant = await post(`${server.url}/auth/login`, {
      username: who.username,
      password: NEW_PASSWORD,
      token_transport: "body",
    });
    const refreshToken = (grant.body as { refresh_token: string }).refresh_token;
    assert.equal((await post(`${server.url}/auth/refresh`, { refresh_token: refreshToken })).status, 200);
    clock.advance(60_000);
    assert.equal((await post(`${server.url}/auth/refresh`, { refresh_token: refreshToken })).status, 401);
    await smtp.waitFor((m) => to(who.email)(m) && m.parsed.subject === "A session of yours was ended");
  });

  it("forgot and resend are throttled per address (429 with Retry-After)", async () => {
    const email = `flood${++n}@example.test`;
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 6; i++) {
      const response = await post(`${server.url}/auth/password/forgot`, { email });
      statuses.push(response.status);
      retryAfter = response.headers.get("retry-after") ?? retryAfter;
    }
    assert.deepEqual(statuses, [202, 202, 202, 202, 202, 429]);
    assert.ok(Number(retryAfter) > 0);
  });
});
