import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { Webhook } from "standardwebhooks";
import { createEventIdGenerator, isEventId } from "../../src/core/events/event-id.ts";
import { OncePerWindow } from "../../src/core/events/once-per-window.ts";
import { parseWebhookSecret, signWebhook } from "../../src/core/events/webhook-signature.ts";
import { retryDelayMs } from "../../src/core/outbox/retry-policy.ts";

describe("event ids", () => {
  it("are UUIDv7 whose first 48 bits are the time, and sort in the order they were made", () => {
    const next = createEventIdGenerator();
    const at = Date.UTC(2031, 0, 2, 3, 4, 5, 6);
    const id = next(at);
    assert.ok(isEventId(id));
    assert.equal(id[14], "7", "version 7");
    assert.ok("89ab".includes(id[19]!), "RFC 9562 variant");
    assert.equal(Number.parseInt(id.replaceAll("-", "").slice(0, 12), 16), at);
  });

  it("still increase when the clock stands still, steps back, or 5000 come in one millisecond", () => {
    const next = createEventIdGenerator();
    const at = Date.UTC(2031, 0, 1);
    const ids = [next(at + 10)];
    for (let i = 0; i < 5000; i++) ids.push(next(at + 10));
    ids.push(next(at), next(at + 5), next(at + 11), next(at + 11));
    const sorted = [...ids].sort();
    assert.deepEqual(ids, sorted);
    assert.equal(new Set(ids).size, ids.length);
  });

  it("isEventId accepts only lowercase UUIDs", () => {
    assert.equal(isEventId("0190e0f0-0000-7000-8000-000000000000"), true);
    for (const bad of ["", "x", "0190E0F0-0000-7000-8000-000000000000", "0190e0f0-0000-7000-8000-0000000000000", "~"]) {
      assert.equal(isEventId(bad), false, bad);
    }
  });
});

describe("webhook signatures", () => {
  it("match what the standardwebhooks package signs and verifies", () => {
    const secret = `whsec_${randomBytes(32).toString("base64")}`;
    const key = parseWebhookSecret(secret);
    const body = JSON.stringify({ type: "logout", timestamp: "2031-01-01T00:00:00.000Z", data: { a: "é ✓" } });
    const timestamp = Math.floor(Date.now() / 1000);
    const ours = signWebhook(key, "msg_1", timestamp, body);
    assert.equal(ours, new Webhook(secret).sign("msg_1", new Date(timestamp * 1000), body));
    const headers = { "webhook-id": "msg_1", "webhook-timestamp": String(timestamp), "webhook-signature": ours };
    assert.deepEqual(new Webhook(secret).verify(body, headers), JSON.parse(body));
    assert.throws(() => new Webhook(secret).verify(`${body} `, headers));
  });

  it("secrets are whsec_ and the base64 of 24 to 64 bytes", () => {
    const of = (bytes: number) => `whsec_${randomBytes(bytes).toString("base64")}`;
    assert.equal(parseWebhookSecret(of(24)).length, 24);
    assert.equal(parseWebhookSecret(of(64)).length, 64);
    for (const bad of [
      of(23),
      of(65),
      randomBytes(32).toString("base64"),
      "whsec_",
      "whsec_!!!!",
      `whsec_${"A".repeat(33)}`,
    ]) {
      assert.throws(() => parseWebhookSecret(bad), { code: "invalid_config" }, bad);
    }
  });
});

describe("OncePerWindow", () => {
  it("says yes once per key and window, and forgets the oldest keys past its size", () => {
    const once = new OncePerWindow(1000, 3);
    assert.equal(once.take("a", 0), true);
    assert.equal(once.take("a", 999), false);
    assert.equal(once.take("b", 999), true);
    assert.equal(once.take("a", 1000), true, "a new window");
    once.take("c", 1000);
    once.take("d", 1000);
    assert.equal(once.take("b", 1001), true, "b was the oldest and was forgotten");
    assert.equal(once.take("d", 1001), false);
  });
});

describe("retry delays", () => {
  const policy = { baseDelayMs: 5000, maxDelayMs: 3_600_000, maxAttempts: 20 };

  it("double from the base up to the cap, each scaled into [half, whole) by jitter", () => {
    assert.equal(
      retryDelayMs(policy, 1, () => 0),
      2500,
    );
    assert.equal(
      retryDelayMs(policy, 1, () => 0.999999),
      5000,
    );
    assert.equal(
      retryDelayMs(policy, 2, () => 0),
      5000,
    );
    assert.equal(
      retryDelayMs(policy, 4, () => 0.5),
      30_000,
    );
    assert.ok(retryDelayMs(policy, 30, () => 0.999999) <= 3_600_000);
    assert.equal(
      retryDelayMs(policy, 1000, () => 0),
      1_800_000,
    );
  });
});
