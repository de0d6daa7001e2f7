import { readFileSync } from "node:fs";
import { STATUS_CODES } from "node:http";
import { z } from "zod";
import type { AuthErrorCode } from "../core/errors.ts";
import { httpStatusFor } from "./http-status.ts";
import { isTextBody, type OptionalCredential, type RouteAuth, type RouteSpec, type TextBody } from "./route-spec.ts";

/** A JSON Schema (2020-12, the dialect of OpenAPI 3.1) or any other JSON object of the document. */
type Json = Record<string, unknown>;

export interface OpenApiDocument {
  openapi: "3.1.0";
  info: { title: string; version: string; description: string };
  paths: Record<string, Record<string, Json>>;
  components: { securitySchemes: Record<string, Json> };
  tags: { name: string }[];
}

/** Routes sharing one mount point. */
export interface RouteGroup {
  /** Where they are mounted: "/auth" for the router, "" for routes at absolute paths. */
  prefix: string;
  routes: Readonly<Record<string, RouteSpec>>;
}

export interface OpenApiInput {
  groups: readonly RouteGroup[];
  /** Name of the refresh cookie, for its security scheme. */
  cookieName: string;
}

const SECURITY_SCHEME: Record<Exclude<RouteAuth, "none"> | OptionalCredential, string> = {
  bearer: "accessToken",
  introspection: "introspectionToken",
  refresh_cookie: "refreshCookie",
};

/** zod → JSON Schema 2020-12, without `$schema` (the document's dialect already says it). */
function jsonSchema(schema: z.ZodType, io: "input" | "output"): Json {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, {
    io,
    target: "draft-2020-12",
    unrepresentable: "any",
  });
  return rest;
}

/** The error body for one status, naming exactly the codes this route can answer with at that status. */
export function errorSchema(codes: readonly AuthErrorCode[]): z.ZodType {
  const [first, ...rest] = codes;
  if (first === undefined) throw new Error("an error schema needs at least one code");
  return z.object({
    error: z.enum([first, ...rest]),
    message: z.string().describe("A sentence for people; never echoes a token, password or code."),
  });
}

/** `/sessions/:id` → `/sessions/{id}`. */
export function openApiPath(prefix: string, path: string): string {
  return `${prefix}${path}`.replace(/:([A-Za-z0-9_]+)/g, "{$1}");
}

function parameters(schema: z.ZodObject | undefined, where: "path" | "query"): Json[] {
  if (!schema) return [];
  const object = jsonSchema(schema, "input") as { properties?: Record<string, Json>; required?: string[] };
  return Object.entries(object.properties ?? {}).map(([name, property]) => ({
    name,
    in: where,
    required: where === "path" || (object.required ?? []).includes(name),
    schema: property,
  }));
}

function security(spec: RouteSpec): Json[] {
  if (spec.auth !== "none") return [{ [SECURITY_SCHEME[spec.auth]]: [] }];
  const optional = spec.optionalCredentials ?? [];
  if (optional.length === 0) return [];
  return [...optional.map((credential) => ({ [SECURITY_SCHEME[credential]]: [] })), {}];
}

const header = (description: string, schema: Json = { type: "string" }): Json => ({ description, schema });

function successResponse(spec: RouteSpec, body: z.ZodType | TextBody | null): Json {
  const headers: Json = {};
  if (spec.setsRefreshCookie)
    headers["Set-Cookie"] = header("The refresh token: HttpOnly, SameSite=Strict, Path-scoped.");
  const response: Json = { description: body === null ? "Done; no body." : "Success." };
  if (Object.keys(headers).length > 0) response["headers"] = headers;
  if (isTextBody(body)) {
    response["description"] = body.description;
    response["content"] = { [body.mediaType]: { schema: { type: "string" } } };
  } else if (body !== null) response["content"] = { "application/json": { schema: jsonSchema(body, "output") } };
  return response;
}

function errorResponses(spec: RouteSpec): Record<string, Json> {
  const byStatus = new Map<number, AuthErrorCode[]>();
  for (const code of new Set(spec.errors)) {
    const status = httpStatusFor(code);
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const challenged = spec.auth !== "none" || (spec.optionalCredentials ?? []).includes("bearer");
  const responses: Record<string, Json> = {};
  for (const [status, codes] of [...byStatus].sort(([a], [b]) => a - b)) {
    const response: Json = {
      description: `${STATUS_CODES[status] ?? "Error"}: ${codes.join(", ")}.`,
      content: { "application/json": { schema: jsonSchema(errorSchema(codes), "output") } },
    };
    if (status === 400 && challenged) {
      response["headers"] = {
        "WWW-Authenticate": header('With `error="invalid_request"` when the access token came in more than one place.'),
      };
    }
    if (status === 401 && challenged) {
      response["headers"] = {
        "WWW-Authenticate": header('RFC 6750 §3: `Bearer realm="…"`, with `error=` when a token was rejected.'),
      };
    }
    if (status === 429) response["headers"] = { "Retry-After": header("Seconds to wait.", { type: "integer" }) };
    responses[String(status)] = response;
  }
  return responses;
}

function operation(operationId: string, spec: RouteSpec): Json {
  const responses: Record<string, Json> = {};
  for (const [status, body] of Object.entries(spec.responses)) responses[status] = successResponse(spec, body);
  Object.assign(responses, errorResponses(spec));
  const op: Json = {
    operationId,
    summary: spec.summary,
    tags: [spec.tag],
    security: security(spec),
    responses,
  };
  if (spec.description) op["description"] = spec.description;
  const params = [...parameters(spec.params, "path"), ...parameters(spec.query, "query")];
  if (params.length > 0) op["parameters"] = params;
  if (spec.body) {
    const media = spec.bodyType === "form" ? "application/x-www-form-urlencoded" : "application/json";
    op["requestBody"] = { required: true, content: { [media]: { schema: jsonSchema(spec.body, "input") } } };
  }
  return op;
}

let packageVersion: string | undefined;

/** Gatehouse's version from package.json (two levels up from both src/express and dist/express). */
function gatehouseVersion(): string {
  if (packageVersion === undefined) {
    try {
      const text = readFileSync(new URL("../../package.json", import.meta.url), "utf8");
      packageVersion = (JSON.parse(text) as { version?: string }).version ?? "0.0.0";
    } catch {
      packageVersion = "0.0.0";
    }
  }
  return packageVersion;
}

/**
 * The OpenAPI 3.1 document of the given routes, generated from the same zod schemas the router
 * validates requests with. Error answers list, per status, exactly the codes a route can give.
 */
export function buildOpenApiDocument(input: OpenApiInput): OpenApiDocument {
  const paths: Record<string, Record<string, Json>> = {};
  const tags = new Set<string>();
  for (const group of input.groups) {
    for (const [operationId, spec] of Object.entries(group.routes)) {
      const path = openApiPath(group.prefix, spec.path);
      paths[path] ??= {};
      paths[path][spec.method] = operation(operationId, spec);
      tags.add(spec.tag);
    }
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Gatehouse",
      version: gatehouseVersion(),
      description:
        'Authentication server. Every error is `{"error": "<code>", "message": "<sentence>"}`; codes are stable.',
    },
    paths,
    components: {
      securitySchemes: {
        accessToken: {
          type: "http",
          scheme: "bearer",
          bearerFormat: "JWT",
          description: "An access token from login.",
        },
        introspectionToken: {
          type: "http",
          scheme: "bearer",
          description: "The server's INTROSPECTION_TOKEN, held by resource servers.",
        },
        refreshCookie: { type: "apiKey", in: "cookie", name: input.cookieName, description: "The refresh token." },
      },
    },
    tags: [...tags].map((name) => ({ name })),
  };
}
