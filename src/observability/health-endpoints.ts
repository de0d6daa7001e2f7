import type { RequestHandler } from "express";
import type { ReadinessProbe } from "../core/observability/readiness.ts";
import { httpStatusFor } from "../express/http-status.ts";

export interface HealthHandlers {
  /** `GET /healthz`: 200 `{"status":"ok"}` whenever the process answers (no dependency is checked). */
  live: RequestHandler;
  /**
   * `GET /readyz`: 200 `{"status":"ready","checks":{…}}` when the database answers, its schema is
   * current and a signing key is in force; otherwise, and from the moment shutdown begins,
   * 503 `{"error":"unavailable","message":…,"checks":{…}}`.
   */
  ready: RequestHandler;
}

/** Health handlers over a readiness probe; they never throw and never touch the request. */
export function healthEndpoints(probe: ReadinessProbe): HealthHandlers {
  return {
    live: (_req, res) => {
      res.setHeader("Cache-Control", "no-store");
      res.json({ status: "ok" });
    },
    ready: async (_req, res) => {
      const report = await probe.check();
      res.setHeader("Cache-Control", "no-store");
      if (report.ready) {
        res.json({ status: "ready", checks: report.checks });
        return;
      }
      res.status(httpStatusFor("unavailable")).json({
        error: "unavailable",
        message: report.problem ?? "Not ready.",
        draining: report.draining,
        checks: report.checks,
      });
    },
  };
}
