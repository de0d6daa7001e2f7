import { createHash, timingSafeEqual } from "node:crypto";
import type { RequestHandler } from "express";
import { AuthError } from "../core/errors.ts";
import { readBearerToken } from "../express/bearer.ts";
import { sendAuthError } from "../express/error-handler.ts";
import type { ScrapableMetrics } from "./prometheus.ts";

/** Who may read `/metrics`: nobody (the route does not exist), anyone, or holders of a bearer token. */
export type MetricsAccess = { mode: "off" } | { mode: "public" } | { mode: "token"; token: string };

const digest = (text: string) => createHash("sha256").update(text, "utf8").digest();

/**
 * `GET /metrics` in Prometheus text format. Off, it answers 404 like any unknown path, so a
 * scanner learns nothing. With a token, a missing or wrong one gets RFC 6750's 401; the
 * comparison runs over SHA-256 digests with timingSafeEqual, so neither the token's bytes
 * nor its length leak through timing.
 */
export function metricsEndpoint(metrics: ScrapableMetrics | undefined, access: MetricsAccess, realm: string) {
  const expected = access.mode === "token" ? digest(access.token) : undefined;
  const handler: RequestHandler = async (req, res) => {
    if (access.mode === "off" || metrics === undefined) {
      sendAuthError(res, new AuthError("not_found", "Nothing here."), realm);
      return;
    }
    if (expected !== undefined) {
      let presented: string | undefined;
      try {
        presented = readBearerToken(req.headers.authorization);
      } catch (error) {
        sendAuthError(res, error as AuthError, realm);
        return;
      }
      if (presented === undefined) {
        const message = "The metrics need Authorization: Bearer <METRICS_TOKEN>.";
        sendAuthError(res, new AuthError("invalid_token", message, { tokenPresented: false }), realm);
        return;
      }
      if (!timingSafeEqual(digest(presented), expected)) {
        const message = "The metrics token is wrong.";
        sendAuthError(res, new AuthError("invalid_token", message, { tokenPresented: true }), realm);
        return;
      }
    }
    const { contentType, text } = await metrics.scrape();
    res.setHeader("Content-Type", contentType);
    res.setHeader("Cache-Control", "no-store");
    res.send(text);
  };
  return handler;
}
