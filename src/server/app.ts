import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import express, { type Express } from "express";
import helmet from "helmet";
import { AuthError } from "../core/errors.ts";
import { refreshCookieName } from "../express/cookies.ts";
import { errorHandler } from "../express/error-handler.ts";
import { buildOpenApiDocument } from "../express/openapi.ts";
import { authRoutes, serverRoutes } from "../express/routes.ts";
import type { Gatehouse } from "../gatehouse.ts";
import { requestLogger } from "./request-logger.ts";

export interface ServerAppOptions {
  /** Express `trust proxy` hop count (0: use the socket address). */
  trustProxy?: number;
  /** Folder with the demo page; default `<package>/public`. */
  publicDir?: string;
}

const DEFAULT_PUBLIC_DIR = fileURLToPath(new URL("../../public/", import.meta.url));

/**
 * The standalone server: demo page at `/`, the auth routes at `/auth`, JWKS at
 * `/.well-known/jwks.json`, a protected example API at `/api/hello`, for operations
 * `/healthz`, `/readyz` and (when turned on) `/metrics`, and the OpenAPI document of all of them at `/openapi.json`.
 */
export function createServerApp(auth: Gatehouse, options: ServerAppOptions = {}): Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", options.trustProxy ?? 0);
  app.use(
    helmet({
      contentSecurityPolicy: {
        directives: {
          "default-src": ["'self'"],
          "script-src": ["'self'"],
          "style-src": ["'self'"],
          "img-src": ["'self'", "data:"],
        },
      },
      // Local development over http: do not pin HTTPS on localhost.
      strictTransportSecurity: false,
    }),
  );
  app.use(requestLogger(auth.logger, auth.meter));
  const health = auth.health();
  app.get("/healthz", health.live);
  app.get("/readyz", health.ready);
  app.get("/metrics", auth.metrics());

  app.get("/.well-known/jwks.json", auth.jwks());
  app.use("/auth", auth.router());
  app.get("/api/hello", auth.requireAuth({ checkSession: true }), (req, res) => {
    res.setHeader("Cache-Control", "no-store");
    res.json({
      message: `Hello! This answer came from a protected route.`,
      user_id: req.auth!.userId,
      session_id: req.auth!.sessionId,
      token_expires_at: new Date(req.auth!.claims.exp * 1000).toISOString(),
    });
  });
  const openapi = buildOpenApiDocument({
    groups: [
      { prefix: "/auth", routes: authRoutes },
      { prefix: "", routes: serverRoutes },
    ],
    cookieName: refreshCookieName(auth.config.cookie.name, auth.config.cookie.secure),
  });
  app.get("/openapi.json", (_req, res) => {
    res.setHeader("Cache-Control", "public, max-age=300");
    res.json(openapi);
  });

  const publicDir = options.publicDir ?? DEFAULT_PUBLIC_DIR;
  // No directory redirects: serve-static copies the query string into Location, and a query may hold a token.
  if (existsSync(publicDir)) app.use(express.static(publicDir, { index: "index.html", maxAge: 0, redirect: false }));

  app.use(() => {
    throw new AuthError("not_found", "Nothing here. The API lives under /auth; the demo page is at /.");
  });
  app.use(errorHandler(auth.logger, "gatehouse"));
  return app;
}
