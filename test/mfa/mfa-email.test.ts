import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ManualClock } from "../../src/core/clock.ts";
import { totpCode } from "../../src/core/mfa/totp.ts";
import { linkToken, startSmtpServer, type TestSmtpServer, to } from "../email/smtp-test-server.ts";
import { type JsonResponse, request, STRONG_PASSWORD } from "../helpers/http.ts";
import { SoftAuthenticator } from "../helpers/soft-authenticator.ts";
import { startTestServer, type TestServer } from "../helpers/test-server.ts";

type Body = Record<string, unknown>;
const PUBLIC_URL = "https://app.example.test";
const ADDED = "A second factor was added";
const REMOVED = "A second factor was removed";
const tokenOf = (res: JsonResponse) => (res.body as Body)["access_token"] as string;

describe("adding or removing a second factor mails a notice (real SMTP)", () => {
  const clock = new ManualClock(Date.UTC(2030, 0, 1));
  let smtp: TestSmtpServer;
  let server: TestServer;

  const call = (method: string, path: string, json?: unknown, token?: string) =>
    request(`${server.url}/auth${path}`, {
      method,
      ...(json === undefined ? {} : { json }),
      ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}),
    });
  const subjectsTo = (email: string) => smtp.received.filter(to(email)).map((mail) => mail.parsed.subject ?? "");

  /** Signs up with an address, verifies it and logs in; answers the address and a token. */
  async function verifiedUser(username: string) {
    const email = `${username}@example.test`;
    assert.equal((await call("POST", "/register", { username, password: STRONG_PASSWORD, email })).status, 201);
    const [mail] = await smtp.waitFor(to(email));
    assert.equal((await call("POST", "/email/verify", { token: linkToken(mail!, "verify") })).status, 204);
    const token = tokenOf(await call("POST", "/login", { username, password: STRONG_PASSWORD }));
    return { email, token };
  }

  async function enableTotp(token: string) {
    const secret = ((await call("POST", "/mfa/totp", {}, token)).body as Body)["secret"] as string;
    const confirmed = await call("POST", "/mfa/totp/confirm", { code: totpCode(secret, clock.now()) }, token);
    assert.equal(confirmed.status, 200, confirmed.text);
    clock.advance(30_000);
  }

  before(async () => {
    smtp = await startSmtpServer();
    server = await startTestServer({
      clock,
      publicUrl: PUBLIC_URL,
      email: { smtpUrl: smtp.url, from: "Example Auth <auth@example.test>" },
      loginRate: { perIp: { attempts: 10_000 }, perAccount: { attempts: 10_000 } },
    });
  });
  after(async () => {
    await server.close();
    await smtp.stop();
  });

  it("turning TOTP on and off each mails the verified address, with no code or secret in it", async () => {
    const { email, token } = await verifiedUser("notice.totp");
    await enableTotp(token);
    const [added] = await smtp.waitFor((mail) => to(email)(mail) && mail.parsed.subject === ADDED);
    assert.match(added!.parsed.text ?? "", /notice\.totp/);
    assert.ok(!/#(verify|reset)=/.test(added!.parsed.text ?? ""), "a notice carries no link token");
    const removed = await call("DELETE", "/mfa/totp", { current_password: STRONG_PASSWORD }, token);
    assert.equal(removed.status, 204, removed.text);
    await smtp.waitFor((mail) => to(email)(mail) && mail.parsed.subject === REMOVED);
    assert.deepEqual(subjectsTo(email).slice(1), [ADDED, REMOVED]);
  });

  it("adding and removing a passkey each mails the verified address", async () => {
    const { email, token } = await verifiedUser("notice.passkey");
    const authenticator = new SoftAuthenticator({ origin: PUBLIC_URL });
    const options = (await call("POST", "/webauthn/register/options", {}, token)).body as {
      challenge: string;
      user: { id: string };
    };
    const added = await call("POST", "/webauthn/register/verify", { response: authenticator.register(options) }, token);
    assert.equal(added.status, 201, added.text);
    await smtp.waitFor((mail) => to(email)(mail) && mail.parsed.subject === ADDED);
    const path = `/webauthn/credentials/${authenticator.id}`;
    assert.equal((await call("DELETE", path, { current_password: STRONG_PASSWORD }, token)).status, 204);
    await smtp.waitFor((mail) => to(email)(mail) && mail.parsed.subject === REMOVED);
    assert.deepEqual(subjectsTo(email).slice(1), [ADDED, REMOVED]);
  });

  it("an account without a verified address gets no mail, and the change is made all the same", async () => {
    const email = "unverified.user@example.test";
    await call("POST", "/register", { username: "unverified.user", password: STRONG_PASSWORD, email });
    await smtp.waitFor(to(email));
    const token = tokenOf(await call("POST", "/login", { username: "unverified.user", password: STRONG_PASSWORD }));
    await enableTotp(token);
    const first = await call("POST", "/login", { username: "unverified.user", password: STRONG_PASSWORD });
    assert.equal((first.body as Body)["mfa_required"], true);
    // A marker mail after the change: once it has arrived, a notice queued before it would have too.
    await verifiedUser("notice.marker");
    assert.deepEqual(subjectsTo(email), ["Confirm your email address"]);
  });

  it("a login by verified address asks for the second step, and the code finishes it", async () => {
    const { email, token } = await verifiedUser("notice.byaddress");
    const secret = ((await call("POST", "/mfa/totp", {}, token)).body as Body)["secret"] as string;
    assert.equal((await call("POST", "/mfa/totp/confirm", { code: totpCode(secret, clock.now()) }, token)).status, 200);
    clock.advance(30_000);
    const first = await call("POST", "/login", { email: email.toUpperCase(), password: STRONG_PASSWORD });
    assert.equal(first.status, 200, first.text);
    const body = first.body as Body;
    assert.equal(body["mfa_required"], true);
    assert.equal(body["access_token"], undefined);
    const wrongPassword = await call("POST", "/login", { email, password: "not the password at all 42" });
    assert.equal(wrongPassword.status, 401);
    const code = totpCode(secret, clock.now());
    const second = await call("POST", "/login/mfa", { mfa_token: body["mfa_token"], code });
    assert.equal(second.status, 200, second.text);
    assert.equal(typeof tokenOf(second), "string");
  });

  // Last: it stops the outbox worker for good.
  it("the notice waits in the durable outbox, queued with the change, not sent on the request path", async () => {
    const { email, token } = await verifiedUser("notice.outbox");
    const sent = smtp.received.filter(to(email)).length;
    await server.auth.outboxWorker.stop();
    const backlog = await server.auth.store.countOutboxBacklog();
    await enableTotp(token);
    assert.equal(await server.auth.store.countOutboxBacklog(), backlog + 1);
    assert.equal(smtp.received.filter(to(email)).length, sent, "nothing is sent while the worker is stopped");
  });
});

describe("EMAIL_VERIFICATION=required and the second factor", () => {
  let smtp: TestSmtpServer;
  let server: TestServer;
  const call = (path: string, json: unknown, token?: string) =>
    request(`${server.url}/auth${path}`, {
      method: "POST",
      json,
      ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}),
    });

  before(async () => {
    smtp = await startSmtpServer();
    server = await startTestServer({ publicUrl: PUBLIC_URL, email: { smtpUrl: smtp.url, verification: "required" } });
  });
  after(async () => {
    await server.close();
    await smtp.stop();
  });

  it("a passkey alone does not log in an account whose address is not verified", async () => {
    const email = "required.passkey@example.test";
    const registered = await call("/register", { username: "required.passkey", password: STRONG_PASSWORD, email });
    const userId = ((registered.body as Body)["user"] as Body)["id"] as string;
    const early = await call("/login", { username: "required.passkey", password: STRONG_PASSWORD });
    assert.equal(early.status, 403);
    assert.equal((early.body as Body)["error"], "email_not_verified");
    const [mail] = await smtp.waitFor(to(email));
    assert.equal((await call("/email/verify", { token: linkToken(mail!, "verify") })).status, 204);
    const token = tokenOf(await call("/login", { username: "required.passkey", password: STRONG_PASSWORD }));
    const authenticator = new SoftAuthenticator({ origin: PUBLIC_URL });
    const options = (await call("/webauthn/register/options", {}, token)).body as {
      challenge: string;
      user: { id: string };
    };
    assert.equal(
      (await call("/webauthn/register/verify", { response: authenticator.register(options) }, token)).status,
      201,
    );
    const passkeyLogin = async () => {
      const challenge = (await call("/webauthn/login/options", {})).body as { challenge: string };
      return call("/webauthn/login/verify", { response: authenticator.authenticate(challenge) });
    };
    assert.equal((await passkeyLogin()).status, 200);
    // The address becomes unverified (as when an administrator clears it): the passkey is refused too.
    await server.auth.store.setUserEmail(userId, email, null);
    const refused = await passkeyLogin();
    assert.equal(refused.status, 403, refused.text);
    assert.equal((refused.body as Body)["error"], "email_not_verified");
  });
});
