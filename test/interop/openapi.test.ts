import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { Validator } from "@seriousme/openapi-schema-validator";
import type { Router } from "express";
import { authRoutes, serverRoutes } from "../../src/express/routes.ts";
import { ManualClock } from "../../src/core/clock.ts";
import { totpCode } from "../../src/core/mfa/totp.ts";
import { createServerApp } from "../../src/server/app.ts";
import { SoftAuthenticator } from "../helpers/soft-authenticator.ts";
import { startTestServer, type TestServer } from "../helpers/test-server.ts";
import { linkToken, startSmtpServer, to } from "../email/smtp-test-server.ts";
import { newIntrospectionToken, PASSWORD } from "./foreign-client.ts";
import { type Answer, DocumentChecker, type DocumentLike, operationsOf } from "./openapi-conformance.ts";

interface Layer {
  rawPath?: unknown;
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

/** `METHOD /path` of every route an Express router or app serves, with sub-routers' mount paths. */
function servedRoutes(stack: readonly Layer[], prefix = ""): string[] {
  return stack.flatMap((layer) => {
    if (layer.route) {
      const path = `${prefix}${layer.route.path}`.replace(/:([A-Za-z0-9_]+)/g, "{$1}");
      return Object.keys(layer.route.methods)
        .filter((method) => method !== "_all")
        .map((method) => `${method.toUpperCase()} ${path}`);
    }
    if (layer.handle?.stack) {
      const mount = typeof layer.rawPath === "string" && layer.rawPath !== "/" ? layer.rawPath : "";
      return servedRoutes(layer.handle.stack, `${prefix}${mount}`);
    }
    return [];
  });
}

/** Every `schema` object anywhere in the document. */
function schemasIn(node: unknown, found: object[] = []): object[] {
  if (Array.isArray(node)) for (const item of node) schemasIn(item, found);
  else if (node !== null && typeof node === "object") {
    for (const [key, value] of Object.entries(node)) {
      if (key === "schema" && value !== null && typeof value === "object") found.push(value);
      else schemasIn(value, found);
    }
  }
  return found;
}

const firstCookie = (headers: Headers): string | undefined => headers.getSetCookie()[0]?.split(";")[0];

describe("GET /openapi.json", () => {
  const introspectionToken = newIntrospectionToken();
  let server: TestServer;
  let document: DocumentLike & Record<string, unknown>;
  let checker: DocumentChecker;

  before(async () => {
    server = await startTestServer({
      introspectionToken,
      registrationsPerIpPerHour: 12,
      loginThrottle: { perAccountAndIp: { attempts: 3 } },
    });
    const res = await fetch(`${server.url}/openapi.json`);
    assert.equal(res.status, 200);
    document = (await res.json()) as typeof document;
    checker = new DocumentChecker(document);
  });
  after(() => server.close());

  it("is a valid OpenAPI 3.1 document", async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(document));
    assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2));
    assert.equal(validator.version, "3.1");
    assert.equal(document["openapi"], "3.1.0");
  });

  it("every schema in it compiles as JSON Schema 2020-12 in ajv's strict mode", () => {
    const schemas = schemasIn(document.paths);
    assert.ok(schemas.length > 30);
    for (const schema of schemas) checker.compile(schema);
  });

  it("documents every route the server's Express app serves, and nothing it does not", () => {
    const app = createServerApp(server.auth) as unknown as { router: { stack: Layer[] } };
    const served = new Set(servedRoutes(app.router.stack));
    const documented = new Set(operationsOf(document).map((op) => `${op.method.toUpperCase()} ${op.path}`));
    assert.deepEqual([...served].sort(), [...documented].sort());
    const router = server.auth.router() as Router & { stack: Layer[] };
    const table = Object.values(authRoutes).map((spec) => `${spec.method.toUpperCase()} ${spec.path}`);
    const inRouter = servedRoutes(router.stack).map((route) => route.replace(/\{([A-Za-z0-9_]+)\}/g, ":$1"));
    assert.deepEqual([...inRouter].sort(), [...table].sort());
  });

  it("operation ids, security and request bodies follow the routes table", () => {
    const ops = new Map(operationsOf(document).map((op) => [op.operationId, op]));
    for (const [id, spec] of Object.entries({ ...authRoutes, ...serverRoutes })) {
      const op = ops.get(id);
      assert.ok(op, id);
      assert.equal(op.method, spec.method);
      if (spec.auth === "bearer") assert.deepEqual(op.security, [{ accessToken: [] }]);
      if (spec.auth === "introspection") assert.deepEqual(op.security, [{ introspectionToken: [] }]);
      const media = Object.keys(op.requestBody?.content ?? {});
      if ("body" in spec) {
        const form = "bodyType" in spec && spec.bodyType === "form";
        assert.deepEqual(media, [form ? "application/x-www-form-urlencoded" : "application/json"], id);
      } else assert.deepEqual(media, [], id);
    }
  });

  it("the library offers the same document for its own mount points", async () => {
    const fromLibrary = server.auth.openapi({ basePath: "/api/auth", jwksPath: null }) as unknown as DocumentLike;
    const paths = Object.keys(fromLibrary.paths);
    assert.ok(paths.includes("/api/auth/introspect"));
    assert.ok(paths.includes("/api/auth/sessions/{id}"));
    assert.ok(paths.every((path) => path.startsWith("/api/auth/")));
    const result = await new Validator().validate(structuredClone(fromLibrary) as unknown as Record<string, unknown>);
    assert.equal(result.valid, true, JSON.stringify(result.errors));
    const withJwks = server.auth.openapi() as unknown as DocumentLike;
    assert.ok(Object.keys(withJwks.paths).includes("/.well-known/jwks.json"));
    assert.ok(Object.keys(withJwks.paths).includes("/auth/login"));
  });

  it("every route's real answers, success and error, match the document", async () => {
    interface Send {
      params?: Record<string, string>;
      json?: unknown;
      form?: Record<string, string>;
      raw?: { type: string; body: string };
      headers?: Record<string, string>;
      query?: string;
    }
    let base = server.url;
    /** Sends a request to an operation found by its id in the document, and checks the answer. */
    const call = async (operationId: string, send: Send = {}): Promise<Answer> => {
      const op = checker.operation(operationId);
      const path = op.path.replace(/\{([A-Za-z0-9_]+)\}/g, (_, name: string) => send.params?.[name] ?? "");
      const headers = new Headers(send.headers);
      let body: string | URLSearchParams | undefined;
      if (send.json !== undefined) {
        headers.set("content-type", "application/json");
        body = JSON.stringify(send.json);
      } else if (send.form !== undefined) body = new URLSearchParams(send.form);
      else if (send.raw !== undefined) {
        headers.set("content-type", send.raw.type);
        body = send.raw.body;
      }
      const response = await fetch(`${base}${path}${send.query ?? ""}`, {
        method: op.method.toUpperCase(),
        headers,
        ...(body === undefined ? {} : { body }),
      });
      const text = await response.text();
      let parsed: unknown = null;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        parsed = text;
      }
      const answer = { status: response.status, headers: response.headers, text, body: parsed };
      checker.check(operationId, answer);
      return answer;
    };
    const expect = async (status: number, operationId: string, send: Send = {}): Promise<Answer> => {
      const answer = await call(operationId, send);
      assert.equal(answer.status, status, `${operationId}: ${answer.text}`);
      return answer;
    };
    const introspector = { authorization: `Bearer ${introspectionToken}` };

    // Accounts and sessions, the browser way (cookie) and the native way (body).
    await expect(201, "register", { json: { username: "flow", password: PASSWORD } });
    await expect(409, "register", { json: { username: "flow", password: PASSWORD } });
    await expect(400, "register", { json: { username: "flow2", password: "short" } });
    const login = await expect(200, "login", { json: { username: "flow", password: PASSWORD } });
    const cookie = firstCookie(login.headers);
    assert.ok(cookie, "login sets the refresh cookie");
    const access = (login.body as { access_token: string }).access_token;
    const bearer = { authorization: `Bearer ${access}` };
    const refreshed = await expect(200, "refresh", { json: {}, headers: { cookie } });
    const cookie2 = firstCookie(refreshed.headers)!;
    await expect(403, "refresh", { json: {}, headers: { cookie: cookie2, origin: "https://evil.example" } });
    await expect(401, "refresh", { json: { refresh_token: "a".repeat(43) } });
    const native = await expect(200, "login", {
      json: { username: "flow", password: PASSWORD, token_transport: "body" },
    });
    const nativeTokens = native.body as { access_token: string; refresh_token: string };
    await expect(200, "refresh", { json: { refresh_token: nativeTokens.refresh_token } });
    await expect(401, "login", { json: { username: "flow", password: "wrong wrong wrong wrong" } });

    await expect(200, "me", { headers: bearer });
    await expect(401, "me");
    await expect(200, "activity", { headers: bearer, query: "?limit=5" });
    await expect(400, "activity", { headers: bearer, query: "?limit=0" });
    await expect(401, "activity");
    const sessions = await expect(200, "listSessions", { headers: bearer });
    await expect(401, "listSessions", { headers: { authorization: "Bearer not.a.token" } });
    const ids = (sessions.body as { sessions: { id: string; current: boolean }[] }).sessions;
    const other = ids.find((session) => !session.current)!;
    await expect(400, "endSession", { params: { id: "not-a-session-id" }, headers: bearer });
    await expect(404, "endSession", { params: { id: randomUUID() }, headers: bearer });
    await expect(401, "endSession", { params: { id: other.id } });
    await expect(204, "endSession", { params: { id: other.id }, headers: bearer });
    await expect(200, "hello", { headers: bearer });
    await expect(401, "hello");
    // An access token in two places (header and query) is refused on every bearer route (RFC 6750 §3.1).
    const twice = { headers: bearer, query: `?access_token=${access}` };
    for (const id of ["me", "listSessions", "hello"]) await expect(400, id, twice);
    await expect(200, "jwks");
    await expect(200, "health");
    await expect(200, "openapi");

    // The resource-server endpoints.
    const live = await expect(200, "introspect", { form: { token: access }, headers: introspector });
    assert.equal((live.body as { active: boolean }).active, true);
    await expect(200, "introspect", { form: { token: nativeTokens.refresh_token }, headers: introspector });
    await expect(200, "introspect", { form: { token: "garbage" }, headers: introspector });
    await expect(200, "revoke", { form: { token: "garbage" } });

    // Every body route refuses the wrong type, an oversized body and malformed input alike.
    const big = "x".repeat(20_000);
    for (const op of checker.operations.filter((candidate) => candidate.requestBody)) {
      const form = "application/x-www-form-urlencoded" in (op.requestBody?.content ?? {});
      const headers = op.operationId === "introspect" ? introspector : bearer;
      // A route with an :id (a passkey) gets a well-formed one, so the body checks are what answers.
      const send = (raw: NonNullable<Send["raw"]>) => ({ raw, headers, params: { id: "AAAA" } });
      await expect(415, op.operationId, send({ type: form ? "application/json" : "text/plain", body: "{}" }));
      await expect(
        413,
        op.operationId,
        send({
          type: form ? "application/x-www-form-urlencoded" : "application/json",
          body: form ? `token=${big}` : JSON.stringify({ big }),
        }),
      );
      await expect(
        400,
        op.operationId,
        send({ type: form ? "application/x-www-form-urlencoded" : "application/json", body: form ? "token=" : "{" }),
      );
    }

    // Password change: wrong current password, policy, success (which ends the other sessions).
    const second = await expect(200, "login", { json: { username: "flow", password: PASSWORD } });
    const secondBearer = { authorization: `Bearer ${(second.body as { access_token: string }).access_token}` };
    await expect(401, "changePassword", {
      json: { current_password: "not it not it not it", new_password: `${PASSWORD} 2` },
      headers: bearer,
    });
    await expect(400, "changePassword", {
      json: { current_password: PASSWORD, new_password: "tiny" },
      headers: bearer,
    });
    await expect(204, "changePassword", {
      json: { current_password: PASSWORD, new_password: `${PASSWORD} new` },
      headers: secondBearer,
    });
    const newPassword = `${PASSWORD} new`;
    const third = await expect(200, "login", { json: { username: "flow", password: newPassword } });
    const thirdAccess = (third.body as { access_token: string }).access_token;
    const thirdCookie = firstCookie(third.headers)!;

    // Logout: by cookie from a foreign origin (refused), by bearer, then logout-all.
    await expect(403, "logout", { json: {}, headers: { cookie: thirdCookie, origin: "https://evil.example" } });
    await expect(401, "logout", { json: {}, headers: { authorization: "Bearer not.a.token" } });
    const [cookieName] = thirdCookie.split("=");
    const doubled = await expect(401, "logout", { json: {}, headers: { cookie: `${thirdCookie}; ${cookieName}=x` } });
    assert.equal((doubled.body as { error: string }).error, "invalid_grant");
    await expect(204, "logout", { json: {}, headers: { cookie: thirdCookie } });
    const fourth = await expect(200, "login", { json: { username: "flow", password: newPassword } });
    const fourthBearer = { authorization: `Bearer ${(fourth.body as { access_token: string }).access_token}` };
    await expect(204, "logoutAll", { json: {}, headers: fourthBearer });
    await expect(401, "logoutAll", { json: {} });
    assert.equal(
      (
        (await expect(200, "introspect", { form: { token: thirdAccess }, headers: introspector })).body as {
          active: boolean;
        }
      ).active,
      false,
    );

    // Throttles: registrations per address, failed logins per account, then the password change
    // of that account, then failed introspection callers.
    for (let n = 0; n < 20; n++) {
      const res = await call("register", { json: { username: `filler${n}`, password: PASSWORD } });
      if (res.status === 429) break;
    }
    await expect(429, "register", { json: { username: "one-too-many", password: PASSWORD } });
    const victim = await call("login", { json: { username: "flow", password: newPassword } });
    const victimBearer = { authorization: `Bearer ${(victim.body as { access_token: string }).access_token}` };
    for (let n = 0; n < 10; n++) {
      const res = await call("login", { json: { username: "flow", password: "wrong wrong wrong wrong" } });
      if (res.status === 429) break;
    }
    await expect(429, "login", { json: { username: "flow", password: newPassword } });
    await expect(429, "changePassword", {
      json: { current_password: newPassword, new_password: `${PASSWORD} newer` },
      headers: victimBearer,
    });
    const wrongCaller = { authorization: `Bearer ${newIntrospectionToken()}` };
    await expect(401, "introspect", { form: { token: "x" }, headers: wrongCaller });
    for (let n = 0; n < 25; n++) {
      if ((await call("introspect", { form: { token: "x" }, headers: wrongCaller })).status === 429) break;
    }
    await expect(429, "introspect", { form: { token: "x" }, headers: wrongCaller });

    // Email: a server that requires verified addresses, mailing through a real SMTP server.
    const smtp = await startSmtpServer();
    const mailing = await startTestServer({
      email: { smtpUrl: smtp.url, verification: "required", requestsPerIpPerHour: 8 },
    });
    try {
      base = mailing.url;
      const address = "flow@example.test";
      const mailUser = await expect(201, "register", {
        json: { username: "mailflow", password: PASSWORD, email: address },
      });
      await expect(403, "login", { json: { email: address, password: PASSWORD } });
      const [verifyMail] = await smtp.waitFor(to(address));
      await expect(400, "verifyEmail", { json: { token: "a".repeat(43) } });
      await expect(204, "verifyEmail", { json: { token: linkToken(verifyMail!, "verify") } });
      const mailLogin = await expect(200, "login", { json: { email: address, password: PASSWORD } });
      const mailBearer = { authorization: `Bearer ${(mailLogin.body as { access_token: string }).access_token}` };
      await expect(202, "resendVerification", { json: {}, headers: mailBearer });
      await expect(401, "resendVerification", { json: {} });
      await expect(401, "changeEmail", {
        json: { email: "new@example.test", current_password: "not it not it not it" },
        headers: mailBearer,
      });
      await expect(202, "changeEmail", {
        json: { email: "new@example.test", current_password: PASSWORD },
        headers: mailBearer,
      });
      await expect(202, "forgotPassword", { json: { email: address } });
      const [resetMail] = await smtp.waitFor((m) => to(address)(m) && m.parsed.subject === "Reset your password");
      await expect(400, "resetPassword", { json: { token: linkToken(resetMail!, "reset"), new_password: "tiny" } });
      await expect(204, "resetPassword", {
        json: { token: linkToken(resetMail!, "reset"), new_password: `${PASSWORD} reset` },
      });
      await expect(400, "resetPassword", {
        json: { token: linkToken(resetMail!, "reset"), new_password: `${PASSWORD} again` },
      });
      const relogin = await expect(200, "login", { json: { email: address, password: `${PASSWORD} reset` } });
      const reBearer = { authorization: `Bearer ${(relogin.body as { access_token: string }).access_token}` };
      for (let n = 0; n < 10; n++) {
        if ((await call("forgotPassword", { json: { email: `flood${n}@example.test` } })).status === 429) break;
      }
      await expect(429, "forgotPassword", { json: { email: "flood@example.test" } });
      await expect(429, "resendVerification", { json: {}, headers: reBearer });
      await expect(429, "changeEmail", {
        json: { email: "other@example.test", current_password: `${PASSWORD} reset` },
        headers: reBearer,
      });
      // A passkey alone does not log in an account whose address is no longer verified.
      const mailKey = new SoftAuthenticator({ origin: mailing.auth.config.publicUrl });
      const creation = await expect(200, "passkeyRegisterOptions", { json: {}, headers: reBearer });
      const registration = mailKey.register(creation.body as { challenge: string; user: { id: string } });
      await expect(201, "passkeyRegisterVerify", { json: { response: registration }, headers: reBearer });
      await mailing.auth.store.setUserEmail((mailUser.body as { user: { id: string } }).user.id, address, null);
      const options = await expect(200, "passkeyLoginOptions", { json: {} });
      await expect(403, "passkeyLoginVerify", {
        json: { response: mailKey.authenticate(options.body as { challenge: string }) },
      });
    } finally {
      base = server.url;
      await mailing.close();
      await smtp.stop();
    }

    // Operations: ready, and metrics off (404), then on behind a token (401 without it, 200 with it).
    await expect(200, "ready");
    await expect(404, "metrics");
    const metricsToken = "m".repeat(40);
    const metered = await startTestServer({ metricsToken });
    try {
      base = metered.url;
      await expect(401, "metrics");
      await expect(200, "metrics", { headers: { authorization: `Bearer ${metricsToken}` } });
    } finally {
      base = server.url;
      await metered.close();
    }

    // A server without registration or introspection answers the same document's 403 and 404.
    const closed = await startTestServer({ registrationOpen: false });
    try {
      base = closed.url;
      await expect(403, "register", { json: { username: "nobody", password: PASSWORD } });
      await expect(404, "introspect", { form: { token: "x" }, headers: introspector });
    } finally {
      base = server.url;
      await closed.close();
    }

    // Second factors and passkeys, on a server with its own clock (a TOTP code works once per step)
    // and a software passkey.
    const clock = new ManualClock(Date.UTC(2030, 0, 1));
    const nextStep = () => clock.advance(30_000);
    const factors = await startTestServer({ clock, loginRate: { perAccount: { attempts: 1000 } } });
    try {
      base = factors.url;
      await expect(201, "register", { json: { username: "factor", password: PASSWORD } });
      const tokenOf = (answer: Answer) => (answer.body as { access_token: string }).access_token;
      const signIn = async () =>
        tokenOf(await expect(200, "login", { json: { username: "factor", password: PASSWORD } }));
      let fb = { authorization: `Bearer ${await signIn()}` };
      const wrongPassword = { current_password: "not it not it not it" };

      // TOTP: enrol, confirm, the two-step login, recovery codes, removal.
      await expect(401, "totpEnrol", { json: {} });
      const { secret } = (await expect(200, "totpEnrol", { json: {}, headers: fb })).body as { secret: string };
      await expect(401, "totpConfirm", { json: { code: "000000" }, headers: fb });
      await expect(200, "totpConfirm", { json: { code: totpCode(secret, clock.now()) }, headers: fb });
      nextStep();
      await expect(400, "totpEnrol", { json: {}, headers: fb });
      await expect(400, "totpConfirm", { json: { code: totpCode(secret, clock.now()) }, headers: fb });
      await expect(401, "recoveryCodes", { json: wrongPassword, headers: fb });
      await expect(200, "recoveryCodes", { json: { current_password: PASSWORD }, headers: fb });
      const challenge = await expect(200, "login", { json: { username: "factor", password: PASSWORD } });
      const mfaToken = (challenge.body as { mfa_token: string }).mfa_token;
      await expect(400, "loginMfa", { json: { mfa_token: mfaToken, code: "123456", recovery_code: "AAAAA-AAAAA" } });
      await expect(401, "loginMfa", { json: { mfa_token: mfaToken, code: "000000" } });
      await expect(401, "loginMfa", { json: { mfa_token: `ghmfa_${"A".repeat(43)}`, code: "000000" } });
      const finished = await expect(200, "loginMfa", {
        json: { mfa_token: mfaToken, code: totpCode(secret, clock.now()) },
      });
      fb = { authorization: `Bearer ${tokenOf(finished)}` };
      nextStep();
      await expect(401, "totpRemove", { json: wrongPassword, headers: fb });
      await expect(204, "totpRemove", { json: { current_password: PASSWORD }, headers: fb });
      await expect(404, "totpRemove", { json: { current_password: PASSWORD }, headers: fb });
      fb = { authorization: `Bearer ${await signIn()}` };

      // Passkeys: register, list, rename, log in with one (alone and as the second step), remove.
      const authenticator = new SoftAuthenticator({ origin: factors.auth.config.publicUrl });
      await expect(401, "passkeyRegisterOptions", { json: {} });
      const creation = await expect(200, "passkeyRegisterOptions", { json: {}, headers: fb });
      const registration = authenticator.register(creation.body as { challenge: string; user: { id: string } });
      await expect(201, "passkeyRegisterVerify", { json: { response: registration, name: "laptop" }, headers: fb });
      await expect(401, "passkeyRegisterVerify", { json: { response: registration }, headers: fb });
      await expect(200, "passkeyList", { headers: fb });
      await expect(401, "passkeyList");
      await expect(400, "passkeyList", { headers: fb, query: `?access_token=${fb.authorization.slice(7)}` });
      const id = authenticator.id;
      await expect(200, "passkeyRename", { params: { id }, json: { name: "work laptop" }, headers: fb });
      await expect(404, "passkeyRename", { params: { id: "AAAA" }, json: { name: "nope" }, headers: fb });
      await expect(401, "passkeyRename", { params: { id }, json: { name: "nope" } });
      const alone = await expect(200, "passkeyLoginOptions", { json: {} });
      await expect(200, "passkeyLoginVerify", {
        json: { response: authenticator.authenticate(alone.body as { challenge: string }) },
      });
      await expect(401, "passkeyLoginVerify", {
        json: { response: authenticator.authenticate(alone.body as { challenge: string }) },
      });
      await expect(401, "passkeyLoginOptions", { json: { mfa_token: `ghmfa_${"A".repeat(43)}` } });
      const step = await expect(200, "login", { json: { username: "factor", password: PASSWORD } });
      const stepToken = (step.body as { mfa_token: string }).mfa_token;
      const second = await expect(200, "passkeyLoginOptions", { json: { mfa_token: stepToken } });
      const verified = await expect(200, "passkeyLoginVerify", {
        json: { mfa_token: stepToken, response: authenticator.authenticate(second.body as { challenge: string }) },
      });
      fb = { authorization: `Bearer ${tokenOf(verified)}` };
      await expect(401, "passkeyRemove", { params: { id }, json: wrongPassword, headers: fb });
      await expect(204, "passkeyRemove", { params: { id }, json: { current_password: PASSWORD }, headers: fb });
      await expect(404, "passkeyRemove", { params: { id }, json: { current_password: PASSWORD }, headers: fb });

      // A login older than ten minutes needs the password to start an enrolment.
      clock.advance(11 * 60_000);
      await expect(401, "totpEnrol", { json: {}, headers: fb });

      // Throttled like login: the account's failures, then the address's attempts.
      for (let n = 0; n < 10; n++) {
        if ((await call("recoveryCodes", { json: wrongPassword, headers: fb })).status === 429) break;
      }
      await expect(429, "recoveryCodes", { json: { current_password: PASSWORD }, headers: fb });
      await expect(429, "totpEnrol", { json: { current_password: PASSWORD }, headers: fb });
      await expect(429, "totpRemove", { json: { current_password: PASSWORD }, headers: fb });
      await expect(429, "passkeyRegisterOptions", { json: { current_password: PASSWORD }, headers: fb });
      await expect(429, "passkeyRemove", { params: { id }, json: { current_password: PASSWORD }, headers: fb });
      for (let n = 0; n < 70; n++) {
        if ((await call("passkeyLoginOptions", { json: {} })).status === 429) break;
      }
      await expect(429, "passkeyLoginOptions", { json: {} });
      await expect(429, "passkeyLoginVerify", { json: { response: registration } });
      await expect(429, "loginMfa", { json: { mfa_token: `ghmfa_${"A".repeat(43)}`, code: "000000" } });
    } finally {
      base = server.url;
      await factors.close();
    }

    // A server whose database goes away: every route that reads it answers 503, and nothing else.
    const failing = await startTestServer({ introspectionToken });
    try {
      base = failing.url;
      await expect(201, "register", { json: { username: "doomed", password: PASSWORD } });
      const doomed = await expect(200, "login", { json: { username: "doomed", password: PASSWORD } });
      const doomedBearer = { authorization: `Bearer ${(doomed.body as { access_token: string }).access_token}` };
      await failing.auth.store.close();
      await expect(503, "register", { json: { username: "late", password: PASSWORD } });
      await expect(503, "login", { json: { username: "doomed", password: PASSWORD } });
      await expect(503, "refresh", { json: { refresh_token: "b".repeat(43) } });
      await expect(503, "logout", { json: { refresh_token: "b".repeat(43) } });
      await expect(503, "logoutAll", { json: {}, headers: doomedBearer });
      await expect(503, "listSessions", { headers: doomedBearer });
      await expect(503, "verifyEmail", { json: { token: "b".repeat(43) } });
      await expect(503, "resendVerification", { json: {}, headers: doomedBearer });
      await expect(503, "changeEmail", {
        json: { email: "late@example.test", current_password: PASSWORD },
        headers: doomedBearer,
      });
      await expect(503, "forgotPassword", { json: { email: "late@example.test" } });
      await expect(503, "resetPassword", { json: { token: "b".repeat(43), new_password: `${PASSWORD} late` } });
      await expect(503, "endSession", { params: { id: randomUUID() }, headers: doomedBearer });
      await expect(503, "changePassword", {
        json: { current_password: PASSWORD, new_password: `${PASSWORD} newer` },
        headers: doomedBearer,
      });
      await expect(503, "me", { headers: doomedBearer });
      const deadStep = { mfa_token: `ghmfa_${"A".repeat(43)}`, code: "000000" };
      await expect(503, "loginMfa", { json: deadStep });
      await expect(503, "totpEnrol", { json: {}, headers: doomedBearer });
      await expect(503, "totpConfirm", { json: { code: "000000" }, headers: doomedBearer });
      await expect(503, "totpRemove", { json: { current_password: PASSWORD }, headers: doomedBearer });
      await expect(503, "recoveryCodes", { json: { current_password: PASSWORD }, headers: doomedBearer });
      await expect(503, "passkeyRegisterOptions", { json: {}, headers: doomedBearer });
      await expect(503, "passkeyRegisterVerify", { json: { response: { id: "AAAA" } }, headers: doomedBearer });
      await expect(503, "passkeyList", { headers: doomedBearer });
      await expect(503, "passkeyRename", { params: { id: "AAAA" }, json: { name: "x" }, headers: doomedBearer });
      await expect(503, "passkeyRemove", {
        params: { id: "AAAA" },
        json: { current_password: PASSWORD },
        headers: doomedBearer,
      });
      await expect(503, "passkeyLoginOptions", { json: {} });
      const assertion = new SoftAuthenticator({ origin: failing.auth.config.publicUrl }).authenticate({
        challenge: "x",
      });
      await expect(503, "passkeyLoginVerify", { json: { response: assertion } });
      await expect(503, "activity", { headers: doomedBearer });
      await expect(503, "hello", { headers: doomedBearer });
      await expect(200, "health");
      await expect(503, "ready");
      await expect(503, "introspect", { form: { token: "c".repeat(43) }, headers: introspector });
      await expect(503, "revoke", { form: { token: "c".repeat(43) } });
    } finally {
      base = server.url;
      await failing.close();
    }

    assert.deepEqual(checker.unseen(), [], "every documented status of every route was answered");
  });
});
