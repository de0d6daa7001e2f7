import type { Request, RequestHandler } from "express";
import type { Logger } from "pino";
import type { Metrics } from "../core/observability/metrics.ts";

/** The label of requests no declared route answered (static files, unknown paths). */
export const UNMATCHED_ROUTE = "unmatched";
const MAX_LOGGED_PATH = 200;
/** Probes and scrapes arrive every few seconds from machines: their lines go to `debug`, not `info`. */
const PROBE_ROUTES = new Set(["/healthz", "/readyz", "/metrics"]);

/**
 * The route template that answered, e.g. `/auth/sessions/:id`: the mount path plus the
 * route's own pattern. Read when the response finishes, while Express still holds both.
 * The server mounts its routers at fixed paths, so the mount part is never user input.
 */
export function routeTemplateOf(req: Request): string {
  const pattern: unknown = req.route?.path;
  if (typeof pattern !== "string") return UNMATCHED_ROUTE;
  return `${req.baseUrl ?? ""}${pattern}` || "/";
}

/** The path as the client sent it (`/auth/refresh`), without the query string, which could carry secrets. */
function fullPathOf(req: Request): string {
  const url = req.originalUrl;
  const query = url.indexOf("?");
  const path = query === -1 ? url : url.slice(0, query);
  return path.length > MAX_LOGGED_PATH ? `${path.slice(0, MAX_LOGGED_PATH)}…` : path;
}

/**
 * One line per request — method, full path, route template, status, duration — and the same
 * duration in the request histogram by route template. Headers and bodies are never logged;
 * health probes and metric scrapes are logged at `debug`.
 */
export function requestLogger(logger: Logger, metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.on("finish", () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = routeTemplateOf(req);
      metrics.request(req.method, route, res.statusCode, seconds);
      const level = PROBE_ROUTES.has(route) ? "debug" : "info";
      if (logger.isLevelEnabled(level)) {
        const fields = { method: req.method, path: fullPathOf(req), route, status: res.statusCode };
        logger[level]({ ...fields, ms: Math.round(seconds * 10_000) / 10 }, "request");
      }
    });
    next();
  };
}
