import type { Request } from "express";
import type { CallerContext } from "../core/auth-service.ts";

const MAX_USER_AGENT = 256;

/** IP and user agent as recorded on sessions and used for throttling (honours `trust proxy`). */
export function callerOf(req: Request): CallerContext {
  const ua = req.get("user-agent");
  return {
    ip: req.ip ?? req.socket.remoteAddress ?? "unknown",
    userAgent: ua ? ua.slice(0, MAX_USER_AGENT) : null,
  };
}
