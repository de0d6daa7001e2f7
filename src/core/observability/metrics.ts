import type { TokenRejection } from "../errors.ts";

export type { TokenRejection };

/*
 * What Gatehouse counts, as a port: the services call these methods and an adapter outside
 * the core (Prometheus, src/observability/prometheus.ts) turns them into metrics. When
 * metrics are off the services get `NO_METRICS`, so counting costs a call to an empty function.
 *
 * Every label value is from a closed set, so a caller can never grow the number of series.
 */

/** How a login attempt ended. A disabled account counts as `invalid_credentials`, as the caller sees it. */
export type LoginResult = "success" | "invalid_credentials" | "throttled" | "invalid_request" | "unavailable" | "error";

/**
 * How a refresh ended: a new token (`rotated`), the same successor again inside the grace
 * window (`grace`), a retired token presented again so the session ended (`reused`), or a
 * token that is unknown, malformed, expired or of an ended session (`invalid`).
 */
export type RefreshResult = "rotated" | "grace" | "reused" | "invalid" | "unavailable" | "error";

/** Which limit refused a request with 429. */
export type ThrottleLimit = "login" | "registration" | "password_hashing";

export const TOKEN_REJECTIONS: readonly TokenRejection[] = [
  "missing",
  "malformed",
  "unknown_key",
  "bad_signature",
  "wrong_algorithm",
  "expired",
  "not_yet_valid",
  "wrong_issuer",
  "wrong_audience",
  "wrong_type",
  "bad_claims",
  "session_ended",
  "insufficient_scope",
  "other",
];

export interface Metrics {
  login(result: LoginResult): void;
  /** `reused` also counts as a reuse detection. */
  refresh(result: RefreshResult): void;
  throttled(limit: ThrottleLimit): void;
  tokenRejected(reason: TokenRejection): void;
  /** Rows of the outbox not yet delivered (set by the outbox worker after each pass). */
  setOutboxBacklog(count: number): void;
  /** One failed delivery attempt of an outbox row of this kind ("mail", "webhook"). */
  outboxDeliveryFailed(kind: string): void;
  /**
   * One HTTP request answered. `route` is the route template (`/auth/sessions/:id`), never the
   * raw path, or "unmatched" when no route was declared for it.
   */
  request(method: string, route: string, status: number, seconds: number): void;
}

const ignore = (): void => undefined;

/** Metrics turned off: every call does nothing. */
export const NO_METRICS: Metrics = Object.freeze({
  login: ignore,
  refresh: ignore,
  throttled: ignore,
  tokenRejected: ignore,
  setOutboxBacklog: ignore,
  outboxDeliveryFailed: ignore,
  request: ignore,
});
