import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createPrometheusMetrics } from "../../src/observability/prometheus.ts";
import { sample, sampleWith } from "./scrape.ts";

describe("Prometheus adapter", () => {
  it("reports what the outbox worker tells it, with the kind label kept to a closed shape", async () => {
    const metrics = createPrometheusMetrics();
    metrics.setOutboxBacklog(7);
    metrics.outboxDeliveryFailed("webhook");
    metrics.outboxDeliveryFailed("webhook");
    metrics.outboxDeliveryFailed('evil"} 1\nkind');
    const { text } = await metrics.scrape();
    assert.equal(sample(text, "gatehouse_outbox_backlog"), 7);
    assert.equal(sample(text, 'gatehouse_outbox_delivery_failures_total{kind="webhook"}'), 2);
    assert.equal(sample(text, 'gatehouse_outbox_delivery_failures_total{kind="other"}'), 1);
    assert.ok(!text.includes("evil"));
  });

  it("keeps methods to a closed set, and two instances in one process apart", async () => {
    const one = createPrometheusMetrics();
    const two = createPrometheusMetrics();
    one.request("PROPFIND", "unmatched", 404, 0.002);
    one.refresh("reused");
    const first = (await one.scrape()).text;
    const second = (await two.scrape()).text;
    const count = "gatehouse_http_request_duration_seconds_count";
    assert.equal(sampleWith(first, count, { method: "OTHER", route: "unmatched", status: "404" }), 1);
    assert.equal(sample(first, "gatehouse_refresh_token_reuse_detections_total"), 1);
    assert.equal(sample(second, "gatehouse_refresh_token_reuse_detections_total"), 0);
    assert.equal(sampleWith(second, count, { method: "OTHER" }), undefined);
  });
});
