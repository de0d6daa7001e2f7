import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import {
  type LoginResult,
  type Metrics,
  type RefreshResult,
  TOKEN_REJECTIONS,
  type ThrottleLimit,
} from "../core/observability/metrics.ts";

/** Metrics that can also be scraped: the Prometheus text of everything counted so far. */
export interface ScrapableMetrics extends Metrics {
  /** This Gatehouse's own registry (never prom-client's global one), e.g. to merge into an app's. */
  readonly registry: Registry;
  scrape(): Promise<{ contentType: string; text: string }>;
}

const LOGIN_RESULTS: readonly LoginResult[] = [
  "success",
  "invalid_credentials",
  "throttled",
  "invalid_request",
  "unavailable",
  "error",
];
const REFRESH_RESULTS: readonly RefreshResult[] = ["rotated", "grace", "reused", "invalid", "unavailable", "error"];
const THROTTLE_LIMITS: readonly ThrottleLimit[] = ["login", "registration", "password_hashing"];
const OUTBOX_KINDS = ["mail", "webhook"] as const;
const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);
/** Outbox kinds are names in code, but a label must never take arbitrary text. */
const KIND_PATTERN = /^[a-z][a-z0-9_]{0,31}$/;

/** Seconds; from a cached token check (well under a millisecond) to a slow login (argon2 plus a queue). */
const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * The Prometheus side of {@link Metrics}, with prom-client. Each call makes its own
 * Registry, so two Gatehouses in one process (tests, or an app with two) never clash over
 * names. Every series of a closed label set starts at 0, so a scrape shows what did not
 * happen as well as what did, and `rate()` works from the first scrape.
 */
export function createPrometheusMetrics(): ScrapableMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  const logins = new Counter({
    name: "gatehouse_logins_total",
    help: "Login attempts by result.",
    labelNames: ["result"],
    registers: [registry],
  });
  const refreshes = new Counter({
    name: "gatehouse_refreshes_total",
    help: "Refresh-token exchanges by result.",
    labelNames: ["result"],
    registers: [registry],
  });
  const reuse = new Counter({
    name: "gatehouse_refresh_token_reuse_detections_total",
    help: "Retired refresh tokens presented again; each ended its session.",
    registers: [registry],
  });
  const throttled = new Counter({
    name: "gatehouse_throttled_total",
    help: "Requests refused with 429, by the limit that refused them.",
    labelNames: ["limit"],
    registers: [registry],
  });
  const rejections = new Counter({
    name: "gatehouse_token_rejections_total",
    help: "Bearer tokens refused, by reason.",
    labelNames: ["reason"],
    registers: [registry],
  });
  const backlog = new Gauge({
    name: "gatehouse_outbox_backlog",
    help: "Outbox rows (mail, webhooks) not delivered yet.",
    registers: [registry],
  });
  const deliveryFailures = new Counter({
    name: "gatehouse_outbox_delivery_failures_total",
    help: "Failed outbox delivery attempts, by kind (each is retried with backoff).",
    labelNames: ["kind"],
    registers: [registry],
  });
  const requests = new Histogram({
    name: "gatehouse_http_request_duration_seconds",
    help: "HTTP request duration by method, route template and status.",
    labelNames: ["method", "route", "status"],
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });

  for (const result of LOGIN_RESULTS) logins.inc({ result }, 0);
  for (const result of REFRESH_RESULTS) refreshes.inc({ result }, 0);
  for (const limit of THROTTLE_LIMITS) throttled.inc({ limit }, 0);
  for (const reason of TOKEN_REJECTIONS) rejections.inc({ reason }, 0);
  for (const kind of OUTBOX_KINDS) deliveryFailures.inc({ kind }, 0);
  reuse.inc(0);
  backlog.set(0);

  return {
    registry,
    login: (result) => logins.inc({ result }),
    refresh: (result) => {
      refreshes.inc({ result });
      if (result === "reused") reuse.inc();
    },
    throttled: (limit) => throttled.inc({ limit }),
    tokenRejected: (reason) => rejections.inc({ reason }),
    setOutboxBacklog: (count) => backlog.set(count),
    outboxDeliveryFailed: (kind) => deliveryFailures.inc({ kind: KIND_PATTERN.test(kind) ? kind : "other" }),
    request: (method, route, status, seconds) =>
      requests.observe({ method: METHODS.has(method) ? method : "OTHER", route, status: String(status) }, seconds),
    scrape: async () => ({ contentType: registry.contentType, text: await registry.metrics() }),
  };
}
