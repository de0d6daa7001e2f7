import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import express, { type RequestHandler } from "express";
import { AuthError } from "../core/errors.ts";
import { throttleIp } from "../core/throttle/throttle-keys.ts";
import { readBearerToken } from "./bearer.ts";
import { callerOf } from "./caller.ts";

const FORM_TYPE = /^application\/x-www-form-urlencoded\s*(;|$)/i;

export function isFormContentType(type: string | undefined): boolean {
  return typeof type === "string" && FORM_TYPE.test(type);
}

/**
 * The token endpoints take `application/x-www-form-urlencoded`, as RFC 7662 §2.1 and RFC 7009
 * §2.1 require, and only that. No cookie is read there, so a cross-site form gains nothing.
 */
export function formBody(limitBytes: number): RequestHandler[] {
  const type = (req: IncomingMessage) => isFormContentType(req.headers["content-type"]);
  return [
    (req, _res, next) => {
      if (!type(req)) {
        throw new AuthError(
          "unsupported_media_type",
          "Send this request as a form: Content-Type: application/x-www-form-urlencoded.",
        );
      }
      next();
    },
    express.urlencoded({ extended: false, limit: limitBytes, parameterLimit: 16, type }),
  ];
}

/** Counts a failed caller authentication; throws too_many_requests once an address has failed too often. */
export interface FailureLimit {
  consume(key: string): Promise<void>;
}

export interface IntrospectionGuardOptions {
  /** INTROSPECTION_TOKEN; undefined turns introspection off (404). */
  token: string | undefined;
  failures: FailureLimit;
}

const digest = (value: string) => createHash("sha256").update(value, "utf8").digest();

/**
 * Authenticates the resource server calling the introspection endpoint (RFC 7662 §2.1) by
 * `Authorization: Bearer <INTROSPECTION_TOKEN>`, compared in constant time (both sides are
 * hashed first, so the comparison does not even leak the length).
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
  const expected = digest(options.token);
  return async (req, _res, next) => {
    let presented: string | undefined;
    try {
      presented = readBearerToken(req.headers.authorization);
    } catch {
      presented = "";
    }
    if (presented !== undefined && timingSafeEqual(digest(presented), expected)) {
      next();
      return;
    }
    await options.failures.consume(throttleIp(callerOf(req).ip));
    throw new AuthError(
      "invalid_token",
      presented === undefined
        ? "This route needs the introspection token: Authorization: Bearer <INTROSPECTION_TOKEN>."
        : "The introspection token is wrong.",
      { tokenPresented: presented !== undefined },
    );
  };
}
