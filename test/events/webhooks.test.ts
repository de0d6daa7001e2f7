import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { AuthError } from "../../src/core/errors.ts";
import type { SecurityEvent } from "../../src/core/events/security-event.ts";
import { createGatehouse, type Gatehouse } from "../../src/gatehouse.ts";
import { createLogger } from "../../src/logging/logger.ts";
import { request, STRONG_PASSWORD } from "../helpers/http.ts";
import { createThrowawaySchema } from "../helpers/postgres-schema.ts";
import { startTestServer, type TestServer } from "../helpers/test-server.ts";
import { sample, scrape } from "../ops/scrape.ts";
import { eventually } from "./eventually.ts";
import { newWebhookSecret, WebhookReceiver } from "./webhook-receiver.ts";

/** Short retries so a test sees several attempts; the worker's own tests cover the policy. */
const FAST = { outbox: { retryBaseSeconds: 1, retryMaxSeconds: 2 } };

const refusedNaming = (name: string) => (error: unknown) =>
  error instanceof AuthError && error.code === "invalid_config" && error.message.includes(name);

describe("webhook settings", () => {
  const quiet = createLogger({ level: "silent" });
  const open = (webhook: Record<string, unknown>) =>
    createGatehouse({ database: "sqlite::memory:", logger: quiet, webhook } as never);

  it("need both the URL and the secret, a whsec_ secret of 24–64 bytes, and an http(s) URL", async () => {
    const secret = newWebhookSecret();
    await assert.rejects(open({ url: "https://hooks.example.com/x" }), refusedNaming("webhook.secret"));
    await assert.rejects(open({ secret }), refusedNaming("webhook.url"));
    await assert.rejects(open({ url: "ftp://hooks.example.com/x", secret }), refusedNaming("webhook.url"));
    for (const bad of ["plain-text-secret-that-is-long-enough", "whsec_c2hvcnQ=", `whsec_${"A".repeat(100)}`]) {
      await assert.rejects(open({ url: "https://hooks.example.com/x", secret: bad }), (error: unknown) => {
        assert.ok(refusedNaming("webhook.secret")(error));
        assert.ok(!(error as Error).message.includes(bad), "the secret is never echoed");
        return true;
      });
    }
  });
});

describe("webhooks from a running server", () => {
  const receiver = new WebhookReceiver();
  let server: TestServer;

  before(async () => {
    await receiver.start();
    server = await startTestServer({
      ...FAST,
      webhook: { url: receiver.url, secret: receiver.secret, timeoutSeconds: 1 },
    });
  });
  after(async () => {
    await server.close();
    await receiver.stop();
  });
  afterEach(() => {
    receiver.answer = () => 204;
  });

  const record = (n: number) =>
    server.auth.events.recordAlone(server.auth.store, {
      type: "login_failed",
      userId: null,
      ip: "198.51.100.7",
      userAgent: "test",
      data: { reason: "unknown_user", n },
    });

  it("POSTs each event as {type, timestamp, data}, signed so the standardwebhooks package verifies it", async () => {
    const registered = await request(`${server.url}/auth/register`, {
      method: "POST",
      headers: { "user-agent": "hook-test" },
      json: { username: "hana", password: STRONG_PASSWORD },
    });
    assert.equal(registered.status, 201);
    const userId = (registered.body as { user: { id: string } }).user.id;
    const [event] = await server.auth.store.listAuditEvents({ userId, limit: 1 });
    await eventually(() => receiver.acknowledged().has(event!.id));
    const webhook = receiver.received.find((w) => w.id === event!.id)!;
    assert.deepEqual(webhook.verified, {
      type: "user_registered",
      timestamp: new Date(event!.at).toISOString(),
      data: { user_id: userId, session_id: null, ip: "127.0.0.1", user_agent: "hook-test", details: {} },
    });
    assert.match(webhook.signature, /^v1,[A-Za-z0-9+/]+={0,2}$/);
    assert.ok(Math.abs(Number(webhook.timestamp) - Date.now() / 1000) < 60);
    assert.ok(!webhook.body.includes(STRONG_PASSWORD));
  });

  it("retries a failed delivery with the same webhook-id and a fresh, valid signature", async () => {
    receiver.answer = (_webhook, attempts) => (attempts < 3 ? 503 : 200);
    const event = await record(1);
    await eventually(() => receiver.acknowledged().has(event.id));
    const attempts = receiver.received.filter((w) => w.id === event.id);
    assert.deepEqual(
      attempts.map((w) => w.status),
      [503, 503, 200],
    );
    assert.ok(
      attempts.every((w) => w.verified !== undefined),
      "every attempt verifies",
    );
    assert.equal(new Set(attempts.map((w) => w.body)).size, 1, "the same body every time");
    // Acknowledged by the receiver, then recorded by the worker a moment later.
    await eventually(async () => (await server.auth.store.countOutboxBacklog()) === 0);
  });

  it("a receiver that is down, then up again, gets every message", async () => {
    await receiver.stop();
    const events: SecurityEvent[] = [];
    for (let n = 0; n < 10; n++) events.push(await record(100 + n));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.ok(events.every((e) => !receiver.acknowledged().has(e.id)));
    await receiver.start();
    await eventually(() => events.every((e) => receiver.acknowledged().has(e.id)), 20_000);
  });

  it("a receiver that hangs past WEBHOOK_TIMEOUT is given up on for that attempt and tried again", async () => {
    receiver.answer = (_webhook, attempts) => (attempts === 1 ? "hold" : 204);
    const event = await record(2);
    await eventually(() => receiver.acknowledged().has(event.id));
    assert.equal(receiver.received.filter((w) => w.id === event.id).length, 2);
  });

  it("410 Gone: that message is not retried (dead, with a warning); later events are still sent", async () => {
    receiver.answer = (webhook) => (webhook.body.includes('"n":3') ? 410 : 204);
    const gone = await record(3);
    await eventually(() => server.logs.some((line) => line.includes("delivery given up")));
    const next = await record(4);
    await eventually(() => receiver.acknowledged().has(next.id));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(receiver.received.filter((w) => w.id === gone.id).length, 1);
    const warning = server.logs.find((line) => line.includes("delivery given up"))!;
    assert.match(warning, /HTTP 410/);
    assert.ok(!warning.includes(receiver.url), "the URL (it may hold a credential) is not logged");
  });
});

describe("outbox metrics", () => {
  it("count failed webhook attempts by kind and show the backlog until it drains", async () => {
    const receiver = new WebhookReceiver();
    // Started and stopped once to own a port: the receiver is down when the events happen.
    await receiver.start();
    await receiver.stop();
    const server = await startTestServer({
      ...FAST,
      metrics: "public",
      webhook: { url: receiver.url, secret: receiver.secret, timeoutSeconds: 1 },
    });
    try {
      const events = await Promise.all(
        [1, 2, 3].map((n) =>
          server.auth.events.recordAlone(server.auth.store, { type: "login_failed", userId: null, data: { n } }),
        ),
      );
      // The receiver is down: the backlog is reported after the failed pass.
      await eventually(async () => sample(await scrape(server.url), "gatehouse_outbox_backlog") === 3);
      const failures = (text: string) => sample(text, 'gatehouse_outbox_delivery_failures_total{kind="webhook"}');
      assert.ok(failures(await scrape(server.url)) >= 3);
      await receiver.start();
      await eventually(() => events.every((e) => receiver.acknowledged().has(e.id)), 20_000);
      await eventually(async () => sample(await scrape(server.url), "gatehouse_outbox_backlog") === 0, 20_000);
    } finally {
      await server.close();
      await receiver.stop();
    }
  });
});

describe("two instances on one PostgreSQL database", () => {
  it("deliver each of 200 events exactly once, both workers running", async () => {
    const db = await createThrowawaySchema("gatehouse_webhooks_two");
    const receiver = new WebhookReceiver();
    await receiver.start();
    const instances: Gatehouse[] = [];
    try {
      // The store option lets both instances use the test's schema; everything else is as in production.
      const { openPostgresStore } = await import("../../src/store/postgres/driver.ts");
      for (let i = 0; i < 2; i++) {
        instances.push(
          await createGatehouse({
            store: openPostgresStore(db.url, { schema: db.schema }),
            logger: createLogger({ level: "silent" }),
            webhook: { url: receiver.url, secret: receiver.secret },
          }),
        );
      }
      const ids = await Promise.all(
        Array.from({ length: 200 }, async (_, n) => {
          const auth = instances[n % 2]!;
          const event = await auth.events.recordAlone(auth.store, {
            type: "login_failed",
            userId: null,
            data: { reason: "unknown_user", n },
          });
          return event.id;
        }),
      );
      await eventually(() => receiver.acknowledged().size === 200, 60_000);
      // Anything still in flight would show as a second delivery: give it a moment.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const acknowledged = receiver.acknowledged();
      assert.deepEqual(new Set(acknowledged.keys()), new Set(ids));
      assert.deepEqual(
        [...acknowledged.entries()].filter(([, count]) => count !== 1),
        [],
        "no event delivered twice",
      );
      assert.equal(receiver.received.length, 200, "and nothing was sent that was not acknowledged");
    } finally {
      for (const auth of instances) {
        await auth.close();
        await auth.store.close();
      }
      await receiver.stop();
      await db.drop();
    }
  });
});
