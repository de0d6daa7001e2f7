import type { RequestHandler } from "express";
import type { Logger } from "pino";

/**
 * One line per request: method, path (never the query string, which could carry secrets),
 * status and duration. Headers and bodies are never logged.
 */
export function requestLogger(logger: Logger): RequestHandler {
  return (req, res, next) => {
    if (!logger.isLevelEnabled("info")) {
      next();
      return;
    }
    const started = process.hrtime.bigint();
    res.on("finish", () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      logger.info({ method: req.method, path: req.path, status: res.statusCode, ms: Math.round(ms * 10) / 10 }, "request");
    });
    next();
  };
}
