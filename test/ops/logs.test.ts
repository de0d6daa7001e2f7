import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ManualClock } from "../../src/core/clock.ts";
import { request, STRONG_PASSWORD } from "../helpers/http.ts";
import { startTestServer, type TestServer } from "../helpers/test-server.ts";

const WRONG_PASSWORD = "a wrong password that must never be logged";
const NEW_PASSWORD = "a brand new passphrase for the log test";

interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

const WARN = 40;

/** The first cookie a response sets, as `name=value` (whatever the cookie is called). */
function cookieOf(headers: Headers): { pair: string; value: string } {
  const line = headers.getSetCookie()[0];
  assert.ok(line, "the response sets a cookie");
  const pair = line.split(";")[0]!;
  return { pair, value: pair.slice(pair.indexOf("=") + 1) };
}

describe("logs: a whole scripted flow", () => {
  const clock = new ManualClock();
  const secrets = new Set<string>([STRONG_PASSWORD, WRONG_PASSWORD, NEW_PASSWORD]);
  let server: TestServer;
  let lines: LogLine[];
  let userId: string;
  let reusedSessionId: string;

  before(async () => {
    server = await startTestServer({
      clock,
      refreshGraceSeconds: 2,
      metrics: "public",
      loginThrottle: { perAccountAndIp: { attempts: 2 } },
    });
    const post = (path: string, json: unknown, headers: Record<string, string> = {}) =>
      request(`${server.url}${path}`, { method: "POST", json, headers });

    const registered = await post("/auth/register", { username: "logged", password: STRONG_PASSWORD });
    assert.equal(registered.status, 201, registered.text);
    userId = (registered.body as { user: { id: string } }).user.id;

    // A browser-style login and refresh with the cookie…
    const cookieLogin = await post("/auth/login", { username: "logged", password: STRONG_PASSWORD });
    assert.equal(cookieLogin.status, 200, cookieLogin.text);
    const cookie = cookieOf(cookieLogin.headers);
    secrets.add(cookie.value);
    secrets.add((cookieLogin.body as { access_token: string }).access_token);
    const cookieRefresh = await post("/auth/refresh", {}, { cookie: cookie.pair });
    assert.equal(cookieRefresh.status, 200, cookieRefresh.text);
    secrets.add(cookieOf(cookieRefresh.headers).value);
    secrets.add((cookieRefresh.body as { access_token: string }).access_token);

    // …a native-style login with the refresh token in the body, then its reuse…
    const bodyLogin = await post("/auth/login", {
      username: "logged",
      password: STRONG_PASSWORD,
      token_transport: "body",
    });
    const grant = bodyLogin.body as { access_token: string; refresh_token: string };
    secrets.add(grant.access_token).add(grant.refresh_token);
    const me = await request(`${server.url}/auth/me`, { headers: { authorization: `Bearer ${grant.access_token}` } });
    reusedSessionId = (me.body as { session_id: string }).session_id;
    const rotated = await post("/auth/refresh", { refresh_token: grant.refresh_token });
    assert.equal(rotated.status, 200, rotated.text);
    const rotatedGrant = rotated.body as { access_token: string; refresh_token: string };
    secrets.add(rotatedGrant.access_token).add(rotatedGrant.refresh_token);
    clock.advance(3000);
    assert.equal((await post("/auth/refresh", { refresh_token: grant.refresh_token })).status, 401);

    // …a password change, a disabled account, wrong passwords until throttled, a bad bearer token.
    const fresh = await post("/auth/login", { username: "logged", password: STRONG_PASSWORD });
    const freshToken = (fresh.body as { access_token: string }).access_token;
    secrets.add(freshToken).add(cookieOf(fresh.headers).value);
    const changed = await post(
      "/auth/password",
      { current_password: STRONG_PASSWORD, new_password: NEW_PASSWORD },
      { authorization: `Bearer ${freshToken}` },
    );
    assert.equal(changed.status, 204, changed.text);
    await server.auth.service.setUserDisabled(userId, true);
    assert.equal((await post("/auth/login", { username: "logged", password: NEW_PASSWORD })).status, 401);
    await server.auth.service.setUserDisabled(userId, false);
    assert.equal((await post("/auth/login", { username: "logged", password: WRONG_PASSWORD })).status, 401);
    assert.equal((await post("/auth/login", { username: "logged", password: WRONG_PASSWORD })).status, 429);
    const forged = `${freshToken.slice(0, -4)}AAAA`;
    secrets.add(forged);
    assert.equal(
      (await request(`${server.url}/api/hello`, { headers: { authorization: `Bearer ${forged}` } })).status,
      401,
    );
    await request(`${server.url}/metrics`);

    lines = server.logs
      .flatMap((chunk) => chunk.split("\n").filter(Boolean))
      .map((line) => JSON.parse(line) as LogLine);
  });
  after(() => server.close());

  it("never contains a token, password or cookie it handled", () => {
    const log = server.logs.join("");
    assert.ok(secrets.size >= 12, `collected ${secrets.size} secrets`);
    for (const secret of secrets) {
      assert.ok(!log.includes(secret), `the log contains a secret (${secret.slice(0, 6)}…)`);
      // A JWT's parts must not appear on their own either (e.g. a signature cut out of a token).
      for (const part of secret.split("."))
        if (part.length >= 16) assert.ok(!log.includes(part), "a token part leaked");
    }
  });

  it("warns when a refresh token is reused, with the user, session and address", () => {
    const warn = lines.find((line) => line.level === WARN && line.msg.includes("reused"));
    assert.ok(warn, "a warn line for the reuse");
    assert.equal(warn["userId"], userId);
    assert.equal(warn["sessionId"], reusedSessionId);
    assert.match(String(warn["ip"]), /127\.0\.0\.1/);
  });

  it("warns when logins are throttled, with the address", () => {
    const warns = lines.filter((line) => line.level === WARN && line.msg.includes("throttled"));
    assert.equal(warns.length, 1, "the try after two failures (the disabled account's and a wrong password)");
    assert.match(String(warns[0]!["ip"]), /127\.0\.0\.1/);
  });

  it("warns when a disabled account tries to log in, with its id and address", () => {
    const warn = lines.find((line) => line.level === WARN && line.msg.includes("disabled"));
    assert.ok(warn, "a warn line for the disabled account");
    assert.equal(warn["userId"], userId);
    assert.match(String(warn["ip"]), /127\.0\.0\.1/);
  });

  it("writes request lines with the full path and the route template", () => {
    const requests = lines.filter((line) => line.msg === "request");
    const refresh = requests.find((line) => line["path"] === "/auth/refresh");
    assert.ok(refresh, "a request line for /auth/refresh");
    assert.equal(refresh["route"], "/auth/refresh");
    assert.ok(!requests.some((line) => line["path"] === "/refresh"), "never the path inside the router");
    const session = requests.find((line) => line["route"] === "/api/hello");
    assert.equal(session?.["path"], "/api/hello");
  });
});
