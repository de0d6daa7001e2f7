import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ManualClock } from "../../src/core/clock.ts";
import { readEnvConfig } from "../../src/server/env-config.ts";
import { startTestServer, type TestServer } from "../helpers/test-server.ts";
import { nativeLogin, nativeRefresh, newIntrospectionToken, postForm, postJson } from "./foreign-client.ts";

const INACTIVE = { active: false };

describe("POST /auth/introspect (RFC 7662) from a client that is not Gatehouse's", () => {
  const clock = new ManualClock(Date.now());
  const introspectionToken = newIntrospectionToken();
  let server: TestServer;
  let url: string;
  const caller = { authorization: `Bearer ${introspectionToken}` };
  const introspect = (token: string, extra: Record<string, string> = {}, headers: Record<string, string> = caller) =>
    postForm(url, { token, ...extra }, headers);

  before(async () => {
    server = await startTestServer({ clock, introspectionToken, accessTokenTtlSeconds: 300 });
    url = `${server.url}/auth/introspect`;
  });
  after(() => server.close());

  it("a live access token: active, with the RFC 7662 members, no-store", async () => {
    const session = await nativeLogin(server.url, "ada");
    const res = await introspect(session.access, { token_type_hint: "access_token" });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers.get("cache-control"), "no-store");
    assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
    const body = res.body as Record<string, unknown>;
    assert.equal(body["active"], true);
    assert.equal(body["token_type"], "access_token");
    assert.equal(body["iss"], "gatehouse");
    assert.equal(body["aud"], "gatehouse");
    for (const member of ["sub", "sid", "jti"]) assert.equal(typeof body[member], "string", member);
    for (const member of ["exp", "iat"]) assert.ok(Number.isInteger(body[member]), member);
    assert.equal((body["exp"] as number) - (body["iat"] as number), 300);
    const me = await fetch(`${server.url}/auth/me`, { headers: { authorization: `Bearer ${session.access}` } });
    const who = (await me.json()) as { user: { id: string }; session_id: string };
    assert.equal(body["sub"], who.user.id);
    assert.equal(body["sid"], who.session_id);
  });

  it("the hint is not needed, and a wrong or unknown hint does not hide the token", async () => {
    const session = await nativeLogin(server.url, "hinty");
    for (const hint of [undefined, "refresh_token", "something_else"]) {
      const res = await introspect(session.access, hint === undefined ? {} : { token_type_hint: hint });
      assert.equal((res.body as { active: boolean }).active, true, String(hint));
    }
    const refresh = await introspect(session.refresh, { token_type_hint: "access_token" });
    assert.equal((refresh.body as { token_type: string }).token_type, "refresh_token");
  });

  it("an expired access token is inactive, and says nothing more", async () => {
    const session = await nativeLogin(server.url, "expiring");
    clock.advance(300_000 + 61_000);
    try {
      const res = await introspect(session.access);
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, INACTIVE);
    } finally {
      clock.set(Date.now());
    }
  });

  it("a logged-out session's access token is inactive although it has not expired", async () => {
    const session = await nativeLogin(server.url, "leaver");
    assert.equal(((await introspect(session.access)).body as { active: boolean }).active, true);
    const logout = await postJson(`${server.url}/auth/logout`, {}, { authorization: `Bearer ${session.access}` });
    assert.equal(logout.status, 204);
    assert.deepEqual((await introspect(session.access)).body, INACTIVE);
    assert.deepEqual((await introspect(session.refresh)).body, INACTIVE);
  });

  it("a disabled user's tokens are inactive", async () => {
    const session = await nativeLogin(server.url, "disabled-one");
    const claims = server.auth.verifyAccessToken(session.access);
    await server.auth.service.setUserDisabled(claims.sub, true);
    assert.deepEqual((await introspect(session.access)).body, INACTIVE);
    assert.deepEqual((await introspect(session.refresh)).body, INACTIVE);
  });

  it("a refresh token: active without being consumed; rotated out, it is inactive", async () => {
    const session = await nativeLogin(server.url, "rotator");
    const first = await introspect(session.refresh, { token_type_hint: "refresh_token" });
    const body = first.body as Record<string, unknown>;
    assert.equal(body["active"], true);
    assert.equal(body["token_type"], "refresh_token");
    assert.equal(body["aud"], "gatehouse", "a refresh token's audience is the issuer itself");
    assert.equal(body["scope"], undefined);
    assert.equal(typeof body["sid"], "string");
    assert.ok((body["exp"] as number) > (body["iat"] as number));
    // Introspecting twice, then using it: nothing was consumed.
    assert.equal(((await introspect(session.refresh)).body as { active: boolean }).active, true);
    const rotated = await nativeRefresh(server.url, session.refresh);
    assert.equal(rotated.status, 200, rotated.text);
    const successor = (rotated.body as { refresh_token: string }).refresh_token;
    assert.deepEqual((await introspect(session.refresh)).body, INACTIVE, "the rotated-out token");
    const next = (await introspect(successor)).body as Record<string, unknown>;
    assert.equal(next["active"], true);
    assert.equal(next["sid"], body["sid"]);
  });

  it("garbage of every shape is inactive, never an error", async () => {
    const samples = [
      "x",
      "not.a.jwt",
      "a".repeat(43),
      "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.",
      "ÿ€ unicode and spaces ",
      "A".repeat(9000),
    ];
    for (const token of samples) {
      const res = await introspect(token);
      assert.equal(res.status, 200, `${token.slice(0, 20)}: ${res.text}`);
      assert.deepEqual(res.body, INACTIVE);
    }
  });

  it("a wrong or missing caller token is 401 with WWW-Authenticate, and the token is not examined", async () => {
    const session = await nativeLogin(server.url, "probed");
    const wrong = await introspect(session.access, {}, { authorization: `Bearer ${newIntrospectionToken()}` });
    assert.equal(wrong.status, 401);
    assert.equal((wrong.body as { error: string }).error, "invalid_token");
    assert.match(wrong.headers.get("www-authenticate") ?? "", /^Bearer realm="gatehouse", error="invalid_token"/);
    assert.equal(wrong.text.includes("active"), false);

    const missing = await introspect(session.access, {}, {});
    assert.equal(missing.status, 401);
    assert.equal(missing.headers.get("www-authenticate"), 'Bearer realm="gatehouse"');

    // A user's own access token is not the introspection token.
    const own = await introspect(session.access, {}, { authorization: `Bearer ${session.access}` });
    assert.equal(own.status, 401);
    const basic = await introspect(session.access, {}, { authorization: `Basic ${btoa(`x:${introspectionToken}`)}` });
    assert.equal(basic.status, 401);
  });

  it("takes forms only: JSON is 415, a missing or repeated token 400; unknown parameters are ignored", async () => {
    const session = await nativeLogin(server.url, "formal");
    const json = await postJson(url, { token: session.access }, caller);
    assert.equal(json.status, 415);
    assert.equal((json.body as { error: string }).error, "unsupported_media_type");

    const missing = await postForm(url, { token_type_hint: "access_token" }, caller);
    assert.equal(missing.status, 400);
    assert.equal((missing.body as { error: string }).error, "invalid_request");

    const twice = await fetch(url, {
      method: "POST",
      headers: caller,
      body: new URLSearchParams([
        ["token", session.access],
        ["token", "other"],
      ]),
    });
    assert.equal(twice.status, 400);

    const extra = await introspect(session.access, { client_id: "orders-api", resource: "https://orders" });
    assert.equal((extra.body as { active: boolean }).active, true);
  });

  it("other routes still require JSON: a form to /auth/login is 415", async () => {
    const res = await postForm(`${server.url}/auth/login`, { username: "ada", password: "whatever whatever" });
    assert.equal(res.status, 415);
  });

  it("failed caller authentication is throttled per address; the right token still gets through", async () => {
    const session = await nativeLogin(server.url, "throttled");
    const wrong = { authorization: `Bearer ${newIntrospectionToken()}` };
    let last = await introspect(session.access, {}, wrong);
    for (let n = 0; n < 25 && last.status === 401; n++) last = await introspect(session.access, {}, wrong);
    assert.equal(last.status, 429);
    assert.equal((last.body as { error: string }).error, "too_many_requests");
    assert.ok(Number(last.headers.get("retry-after")) >= 1);
    const right = await introspect(session.access);
    assert.equal(right.status, 200);
    assert.equal((right.body as { active: boolean }).active, true);
  });

  it("nothing secret reaches the logs", () => {
    const logs = server.logs.join("\n");
    assert.equal(logs.includes(introspectionToken), false);
  });
});

describe("POST /auth/introspect without INTROSPECTION_TOKEN", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  it("is off: 404, whatever is sent", async () => {
    const res = await postForm(`${server.url}/auth/introspect`, { token: "x" }, { authorization: "Bearer anything" });
    assert.equal(res.status, 404);
    assert.equal((res.body as { error: string }).error, "not_found");
  });
});

describe("INTROSPECTION_TOKEN must be strong", () => {
  it("is read from the environment, and a weak one stops start-up naming the variable, not the value", () => {
    const token = newIntrospectionToken();
    assert.equal(readEnvConfig({ INTROSPECTION_TOKEN: token }).options.introspectionToken, token);
    assert.equal(readEnvConfig({}).config.introspectionToken, undefined);
    assert.throws(
      () => readEnvConfig({ INTROSPECTION_TOKEN: "qz7-tiny" }),
      (error: Error) => /INTROSPECTION_TOKEN/.test(error.message) && !error.message.includes("qz7-tiny"),
    );
  });

  it("a short or placeholder value stops start-up, naming the setting", async () => {
    for (const weak of ["qz7-tiny", "changeme-changeme-changeme-changeme-changeme"]) {
      await assert.rejects(startTestServer({ introspectionToken: weak }), (error: Error) => {
        assert.match(error.message, /introspectionToken|INTROSPECTION_TOKEN/);
        assert.equal(error.message.includes(weak), false, "the value is never echoed");
        return true;
      });
    }
  });
});
