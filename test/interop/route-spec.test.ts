import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import express from "express";
import { z } from "zod";
import { createLogger } from "../../src/logging/logger.ts";
import { errorHandler } from "../../src/express/error-handler.ts";
import { buildOpenApiDocument } from "../../src/express/openapi.ts";
import { type RouteSpec, routeMounter, textBody } from "../../src/express/route-spec.ts";
import { DocumentChecker, type DocumentLike } from "./openapi-conformance.ts";

/** A route with a query, as a paginated listing would have. */
const listing = {
  method: "get",
  path: "/items/:kind",
  auth: "none",
  tag: "test",
  summary: "A paginated listing",
  params: z.object({ kind: z.enum(["a", "b"]) }),
  query: z.object({
    limit: z.coerce.number().int().min(1).max(100).optional(),
    before: z.string().max(64).optional(),
  }),
  responses: { 200: z.object({ kind: z.string(), limit: z.number() }) },
  errors: ["invalid_request"],
} as const satisfies RouteSpec;

/** A route whose answer is not JSON, as Prometheus metrics are. */
const metricsLike = {
  method: "get",
  path: "/metrics-like",
  auth: "none",
  tag: "test",
  summary: "Plain text",
  responses: { 200: textBody("text/plain; version=0.0.4", "Metrics in the Prometheus text format.") },
  errors: [],
} as const satisfies RouteSpec;

describe("routeMounter: query and path parameters from the spec", () => {
  let base: string;
  let close: () => Promise<void>;

  before(async () => {
    const app = express();
    const router = express.Router();
    const refuse: express.RequestHandler = () => {
      throw new Error("no guard expected on this route");
    };
    const serve = routeMounter(router, { bearer: refuse, introspection: refuse, formBody: refuse });
    serve(listing, (_req, res, { params, query }) => {
      res.json({ kind: params.kind, limit: query.limit ?? 10 });
    });
    serve(metricsLike, (_req, res) => {
      res.type("text/plain; version=0.0.4").send("# HELP up 1\nup 1\n");
    });
    app.use(router);
    app.use(errorHandler(createLogger({ level: "silent" }), "test"));
    const server = app.listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => new Promise((resolve) => server.close(() => resolve()));
  });
  after(() => close());

  it("hands the handler validated, typed input", async () => {
    const res = await fetch(`${base}/items/a?limit=25&before=x`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { kind: "a", limit: 25 });
  });

  it("a bad query or path parameter is 400 naming it, never echoing the value", async () => {
    for (const [url, name] of [
      ["/items/a?limit=1000", "limit"],
      ["/items/a?limit=secret-value", "limit"],
      ["/items/c", "kind"],
    ] as const) {
      const res = await fetch(`${base}${url}`);
      assert.equal(res.status, 400, url);
      const body = (await res.json()) as { error: string; message: string };
      assert.equal(body.error, "invalid_request");
      assert.match(body.message, new RegExp(`"${name}"`));
      assert.equal(body.message.includes("secret-value"), false);
    }
  });

  it("the document lists the path parameter as required and the query parameters as optional", () => {
    const document = buildOpenApiDocument({ groups: [{ prefix: "/x", routes: { listing } }], cookieName: "c" });
    const op = document.paths["/x/items/{kind}"]?.["get"] as {
      parameters: { name: string; in: string; required: boolean }[];
    };
    assert.deepEqual(
      op.parameters.map(({ name, in: where, required }) => ({ name, where, required })),
      [
        { name: "kind", where: "path", required: true },
        { name: "limit", where: "query", required: false },
        { name: "before", where: "query", required: false },
      ],
    );
  });

  it("a text answer is documented with its media type and checked as text", async () => {
    const document = buildOpenApiDocument({ groups: [{ prefix: "", routes: { metricsLike } }], cookieName: "c" });
    const op = document.paths["/metrics-like"]?.["get"] as { responses: Record<string, { content: object }> };
    assert.deepEqual(op.responses["200"]?.content, { "text/plain; version=0.0.4": { schema: { type: "string" } } });
    const response = await fetch(`${base}/metrics-like`);
    const text = await response.text();
    const checker = new DocumentChecker(document as unknown as DocumentLike);
    checker.check("metricsLike", { status: response.status, headers: response.headers, text, body: text });
    assert.deepEqual(checker.unseen(), []);
  });
});
