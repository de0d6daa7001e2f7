import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ManualClock } from "../../src/core/clock.ts";
import { request, STRONG_PASSWORD } from "../helpers/http.ts";
import { startTestServer, type TestServer } from "../helpers/test-server.ts";
import { sample, sampleWith, scrape } from "./scrape.ts";

const METRICS_TOKEN = "metrics-token-for-tests-0123456789abcdef";

interface Grant {
  access_token: string;
  refresh_token: string;
}

async function loginForBody(server: TestServer, password: string) {
  return request(`${server.url}/auth/login`, {
    method: "POST",
    json: { username: "meter", password, token_transport: "body" },
  });
}

function refreshInBody(server: TestServer, refreshToken: string) {
  return request(`${server.url}/auth/refresh`, { method: "POST", json: { refresh_token: refreshToken } });
}

/** The token with one character of its signature changed: well-formed, but not signed by us. */
function withBadSignature(token: string): string {
  const last = token.at(-2) === "A" ? "B" : "A";
  return `${token.slice(0, -2)}${last}${token.at(-1)}`;
}

describe("metrics: GET /metrics after a scripted flow", () => {
  const clock = new ManualClock();
  let server: TestServer;
  let text: string;
  let endedSessionId: string;

  before(async () => {
    server = await startTestServer({
      clock,
      metricsToken: METRICS_TOKEN,
      refreshGraceSeconds: 5,
      loginThrottle: { perAccountAndIp: { attempts: 1 } },
    });
    const registered = await request(`${server.url}/auth/register`, {
      method: "POST",
      json: { username: "meter", password: STRONG_PASSWORD },
    });
    assert.equal(registered.status, 201, registered.text);

    const first = await loginForBody(server, STRONG_PASSWORD);
    const second = await loginForBody(server, STRONG_PASSWORD);
    assert.equal(first.status, 200, first.text);
    assert.equal(second.status, 200, second.text);
    const wrong = await loginForBody(server, "not the password at all, sorry");
    assert.equal(wrong.status, 401);
    const throttled = await loginForBody(server, STRONG_PASSWORD);
    assert.equal(throttled.status, 429, "one failure is the whole allowance for this account and address");

    const a = first.body as Grant;
    const b = second.body as Grant;
    assert.equal((await refreshInBody(server, a.refresh_token)).status, 200, "rotated");
    assert.equal((await refreshInBody(server, a.refresh_token)).status, 200, "again inside the grace window");
    clock.advance(6000);
    assert.equal((await refreshInBody(server, a.refresh_token)).status, 401, "reused after the grace window");

    const hello = (authorization?: string) =>
      request(`${server.url}/api/hello`, authorization ? { headers: { authorization } } : {});
    assert.equal((await hello(`Bearer ${withBadSignature(b.access_token)}`)).status, 401);
    assert.equal((await hello()).status, 401);
    assert.equal((await hello(`Bearer ${a.access_token}`)).status, 401, "session A ended with the reuse");
    assert.equal((await hello(`Bearer ${b.access_token}`)).status, 200);

    const me = await request(`${server.url}/auth/me`, { headers: { authorization: `Bearer ${b.access_token}` } });
    endedSessionId = (me.body as { session_id: string }).session_id;
    const ended = await request(`${server.url}/auth/sessions/${endedSessionId}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${b.access_token}` },
    });
    assert.equal(ended.status, 204, ended.text);

    text = await scrape(server.url, METRICS_TOKEN);
  });
  after(() => server.close());

  it("counts logins by result", () => {
    assert.equal(sample(text, 'gatehouse_logins_total{result="success"}'), 2);
    assert.equal(sample(text, 'gatehouse_logins_total{result="invalid_credentials"}'), 1);
    assert.equal(sample(text, 'gatehouse_logins_total{result="throttled"}'), 1);
    assert.equal(sample(text, 'gatehouse_logins_total{result="error"}'), 0);
  });

  it("counts refreshes by result, reuse detections and throttles", () => {
    assert.equal(sample(text, 'gatehouse_refreshes_total{result="rotated"}'), 1);
    assert.equal(sample(text, 'gatehouse_refreshes_total{result="grace"}'), 1);
    assert.equal(sample(text, 'gatehouse_refreshes_total{result="reused"}'), 1);
    assert.equal(sample(text, 'gatehouse_refreshes_total{result="invalid"}'), 0);
    assert.equal(sample(text, "gatehouse_refresh_token_reuse_detections_total"), 1);
    assert.equal(sample(text, 'gatehouse_throttled_total{limit="login"}'), 1);
    assert.equal(sample(text, 'gatehouse_throttled_total{limit="registration"}'), 0);
  });

  it("counts refused bearer tokens by reason", () => {
    assert.equal(sample(text, 'gatehouse_token_rejections_total{reason="bad_signature"}'), 1);
    assert.equal(sample(text, 'gatehouse_token_rejections_total{reason="missing"}'), 1);
    assert.equal(sample(text, 'gatehouse_token_rejections_total{reason="session_ended"}'), 1);
    assert.equal(sample(text, 'gatehouse_token_rejections_total{reason="expired"}'), 0);
  });

  it("shows the outbox gauges at zero until a worker reports", () => {
    assert.equal(sample(text, "gatehouse_outbox_backlog"), 0);
    assert.equal(sample(text, 'gatehouse_outbox_delivery_failures_total{kind="mail"}'), 0);
  });

  it("times requests by route template, never by raw path", () => {
    const count = "gatehouse_http_request_duration_seconds_count";
    assert.equal(sampleWith(text, count, { method: "POST", route: "/auth/login", status: "200" }), 2);
    assert.equal(sampleWith(text, count, { method: "POST", route: "/auth/login", status: "429" }), 1);
    assert.equal(sampleWith(text, count, { method: "POST", route: "/auth/refresh", status: "401" }), 1);
    assert.equal(sampleWith(text, count, { method: "DELETE", route: "/auth/sessions/:id", status: "204" }), 1);
    assert.equal(sampleWith(text, count, { method: "GET", route: "/api/hello", status: "401" }), 3);
    assert.ok(!text.includes(endedSessionId), "a raw path never becomes a label");
  });

  it("includes the default process metrics", () => {
    assert.match(text, /^process_cpu_user_seconds_total /m);
    assert.match(text, /^nodejs_eventloop_lag_seconds /m);
  });

  it("refuses a scrape without the token, or with a wrong one, with RFC 6750's 401", async () => {
    const none = await request(`${server.url}/metrics`);
    assert.equal(none.status, 401);
    assert.equal((none.body as { error: string }).error, "invalid_token");
    assert.match(none.headers.get("www-authenticate") ?? "", /^Bearer realm=/);
    const wrong = await request(`${server.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}x` } });
    assert.equal(wrong.status, 401);
    assert.match(wrong.headers.get("www-authenticate") ?? "", /error="invalid_token"/);
  });

  it("keeps each Gatehouse's counts apart, even in one process", async () => {
    const other = await startTestServer({ metrics: "public" });
    try {
      const otherText = await scrape(other.url);
      assert.equal(sample(otherText, 'gatehouse_logins_total{result="success"}'), 0);
      const again = await scrape(server.url, METRICS_TOKEN);
      assert.equal(sample(again, 'gatehouse_logins_total{result="success"}'), 2);
    } finally {
      await other.close();
    }
  });
});

describe("metrics: off by default", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  it("answers 404 like any unknown path, token or not", async () => {
    const plain = await request(`${server.url}/metrics`);
    assert.equal(plain.status, 404);
    assert.equal((plain.body as { error: string }).error, "not_found");
    const withToken = await request(`${server.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    assert.equal(withToken.status, 404);
  });
});

describe("metrics: public", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ metrics: "public" });
  });
  after(() => server.close());

  it("serves the text to anyone", async () => {
    const text = await scrape(server.url);
    assert.equal(sample(text, 'gatehouse_logins_total{result="success"}'), 0);
  });
});
