import type { Request, RequestHandler, Response, Router } from "express";
import type { z } from "zod";
import { AuthError, type AuthErrorCode } from "../core/errors.ts";
import { assertOneTokenPlace } from "./bearer.ts";
import { parseBody } from "./bodies.ts";
import { assertJsonContentType } from "./request-guards.ts";

/** Who may call a route: anyone, a user with an access token, or a resource server holding INTROSPECTION_TOKEN. */
export type RouteAuth = "none" | "bearer" | "introspection";

/** Credentials a route reads when they come, though it does not require them (e.g. logout). */
export type OptionalCredential = "refresh_cookie" | "bearer";

export type RouteMethod = "get" | "post" | "delete" | "patch";

/**
 * One HTTP route, described once: the router mounts and validates from it, and the OpenAPI
 * document is generated from it, so the two cannot drift apart.
 */
export interface RouteSpec {
  readonly method: RouteMethod;
  /** Express path syntax (`/sessions/:id`), relative to where the router is mounted. */
  readonly path: string;
  readonly auth: RouteAuth;
  readonly optionalCredentials?: readonly OptionalCredential[];
  /** Group in the document (OpenAPI tag). */
  readonly tag: string;
  readonly summary: string;
  readonly description?: string;
  /** Request body; JSON unless `bodyType` says form (`application/x-www-form-urlencoded`). */
  readonly body?: z.ZodObject;
  readonly bodyType?: "json" | "form";
  readonly query?: z.ZodObject;
  readonly params?: z.ZodObject;
  /** Success statuses and their body: JSON (a zod schema), text of a media type, or null for none. */
  readonly responses: Readonly<Record<number, z.ZodType | TextBody | null>>;
  /** Whether a success answer sets the refresh cookie. */
  readonly setsRefreshCookie?: boolean;
  /** Every error code the route can answer with; the status of each comes from http-status.ts. */
  readonly errors: readonly AuthErrorCode[];
}

/** A success body that is not JSON, e.g. Prometheus metrics. */
export interface TextBody {
  readonly mediaType: string;
  readonly description: string;
}

/** Declares a text answer in a routes table: `responses: { 200: textBody("text/plain; version=0.0.4", "…") }`. */
export function textBody(mediaType: string, description: string): TextBody {
  return { mediaType, description };
}

export function isTextBody(body: unknown): body is TextBody {
  return typeof body === "object" && body !== null && "mediaType" in body && !("safeParse" in body);
}

type Parsed<R, K extends "body" | "query" | "params"> = R extends { readonly [P in K]: infer S extends z.ZodType }
  ? z.output<S>
  : undefined;

/** A route's validated input, typed from its spec. */
export interface RouteInput<R extends RouteSpec> {
  body: Parsed<R, "body">;
  query: Parsed<R, "query">;
  params: Parsed<R, "params">;
}

export type RouteHandler<R extends RouteSpec> = (
  req: Request,
  res: Response,
  input: RouteInput<R>,
) => Promise<void> | void;

/** Middleware a route gets in front of its handler, by what its spec says. */
export interface RouteGuards {
  bearer: RequestHandler;
  introspection: RequestHandler;
  /** Content-type check and parser for form bodies (JSON bodies are parsed for the whole router). */
  formBody: RequestHandler;
}

/** Query and path parameters: a mismatch is a 400 naming the parameter, never repeating its value. */
function parseParts<S extends z.ZodObject>(schema: S, value: unknown, what: "query parameter" | "path parameter") {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const name = result.error.issues[0]?.path[0];
  const known = Object.keys(schema.shape);
  const named = typeof name === "string" && known.includes(name) ? ` "${name}"` : "";
  throw new AuthError("invalid_request", `Invalid ${what}${named}.`);
}

/** Validates body, query and path parameters against the spec. */
export function readRouteInput<R extends RouteSpec>(spec: R, req: Request): RouteInput<R> {
  return {
    body: spec.body ? parseBody(spec.body, req) : undefined,
    query: spec.query ? parseParts(spec.query, req.query, "query parameter") : undefined,
    params: spec.params ? parseParts(spec.params, req.params, "path parameter") : undefined,
  } as RouteInput<R>;
}

const jsonOnly: RequestHandler = (req, _res, next) => {
  assertJsonContentType(req);
  next();
};

const oneTokenPlace: RequestHandler = (req, _res, next) => {
  assertOneTokenPlace(req);
  next();
};

/**
 * Returns `serve(spec, handler)`, which mounts a route on `router` with the method, path,
 * authentication and body parser its spec names, and hands the handler validated input.
 */
export function routeMounter(router: Router, guards: RouteGuards) {
  return <R extends RouteSpec>(spec: R, handler: RouteHandler<R>): void => {
    const before: RequestHandler[] = [];
    if (spec.auth === "bearer") before.push(guards.bearer);
    if (spec.auth === "introspection") before.push(guards.introspection);
    // A route that reads a bearer token when one comes refuses one sent in two places (RFC 6750 §3.1).
    if (spec.optionalCredentials?.includes("bearer")) before.push(oneTokenPlace);
    if (spec.body && spec.bodyType === "form") before.push(guards.formBody);
    // The router checks every POST; a DELETE or PATCH with a JSON body is held to the same rule.
    else if (spec.body && spec.method !== "post") before.push(jsonOnly);
    const run: RequestHandler = (req, res) => handler(req, res, readRouteInput(spec, req));
    const mount = router[spec.method] as (path: string, ...handlers: RequestHandler[]) => Router;
    mount.call(router, spec.path, ...before, run);
  };
}
