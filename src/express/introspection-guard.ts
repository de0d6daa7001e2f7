import { timingSafeEqual } from "node:crypto";
import type { Request, RequestHandler } from "express";
import { AuthError } from "../core/errors.ts";
import { throttleIp } from "../core/throttle/throttle-keys.ts";
import { readBearerToken } from "./bearer.ts";
import { callerOf } from "./caller.ts";

/** Counts a failed caller authentication; throws too_many_requests once an address has failed too often. */
export interface FailureLimit {
  consume(key: string): Promise<void>;
}

export interface IntrospectionGuardOptions {
  /** INTROSPECTION_TOKEN; undefined turns introspection off (404). */
  token: string | undefined;
  failures: FailureLimit;
}

/**
 * Authenticates the resource server calling the introspection endpoint (RFC 7662 §2.1) by
 * `Authorization: Bearer <INTROSPECTION_TOKEN>`, compared in constant time. Only the length can
 * show, and it is no secret: every generated token has the same one.
 *
 * Only failures are throttled, per address: the token is at least 256 random bits, so the
 * limit is not what stops guessing; it bounds noise, and a caller holding the right token is
 * never turned away because a neighbour on the same address got it wrong.
 */
export function introspectionGuard(options: IntrospectionGuardOptions): RequestHandler {
  if (options.token === undefined) {
    return () => {
      throw new AuthError("not_found", "Token introspection is off on this server: INTROSPECTION_TOKEN is not set.");
    };
  }
  const expected = Buffer.from(options.token, "utf8");
  const { failures } = options;
  // Synchronous when the caller is right: this guard sits on every introspection, a hot path.
  return (req, _res, next) => {
    let presented: string | undefined;
    try {
      presented = readBearerToken(req.headers.authorization);
    } catch {
      presented = "";
    }
    if (presented !== undefined && matches(presented, expected)) {
      next();
      return;
    }
    return refuse(req, failures, presented !== undefined);
  };
}

function matches(presented: string, expected: Buffer): boolean {
  const candidate = Buffer.from(presented, "utf8");
  return candidate.length === expected.length && timingSafeEqual(candidate, expected);
}

async function refuse(req: Request, failures: FailureLimit, tokenPresented: boolean): Promise<never> {
  await failures.consume(throttleIp(callerOf(req).ip));
  throw new AuthError(
    "invalid_token",
    tokenPresented
      ? "The introspection token is wrong."
      : "This route needs the introspection token: Authorization: Bearer <INTROSPECTION_TOKEN>.",
    { tokenPresented },
  );
}
