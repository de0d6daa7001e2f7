import { randomBytes } from "node:crypto";
import type { RequestHandler, Router } from "express";
import { AuthService, toAuthContext } from "./core/auth-service.ts";
import { type GatehouseConfig, type GatehouseOptions, resolveConfig } from "./core/config.ts";
import { type KeyRing, keepKeyRingFresh, loadKeyRing } from "./core/keys/key-ring.ts";
import { assertStrongSecret } from "./core/keys/secret-strength.ts";
import { createArgon2Hasher } from "./core/passwords/argon2-hasher.ts";
import { createPasswordPolicy } from "./core/passwords/password-policy.ts";
import { SessionService } from "./core/sessions/session-service.ts";
import { AuthError } from "./core/errors.ts";
import type { CounterStore } from "./core/store/counters.ts";
import { createLoginThrottle, createRateLimit } from "./core/throttle/login-throttle.ts";
import { createAccessTokenSigner } from "./core/tokens/access-token-signer.ts";
import { type AccessTokenClaims, createAccessTokenVerifier } from "./core/tokens/access-token-verifier.ts";
import { refreshCookieName } from "./express/cookies.ts";
import { buildOpenApiDocument, type OpenApiDocument } from "./express/openapi.ts";
import { createAuthRouter } from "./express/router.ts";
import { authRoutes, jwksRoute } from "./express/routes.ts";
import { createRequireAuth, type RequireAuthOptions } from "./express/require-auth.ts";
import { createLogger, type Logger } from "./logging/logger.ts";
import { openStore } from "./store/open-store.ts";
import type { Store } from "./core/store/store.ts";

export interface CreateGatehouseOptions extends GatehouseOptions {
  /** A pino logger; default: JSON lines on stdout at "info". Tokens, passwords and cookies are redacted. */
  logger?: Logger;
  /**
   * Use an already-open store instead of `database` (tests, custom adapters). It must offer
   * `counters()`; a store only one process uses may return `memoryCounters()`.
   */
  store?: Store;
}

export interface Gatehouse {
  /** The CONTRACT §2 routes; mount with `app.use("/auth", auth.router())`. */
  router(): Router;
  /** Bearer middleware for your routes; sets `req.auth`. */
  requireAuth(options?: RequireAuthOptions): RequestHandler;
  /** `GET` handler serving the public keys; mount at `/.well-known/jwks.json`. */
  jwks(): RequestHandler;
  /**
   * The OpenAPI 3.1 document of `router()` mounted at `basePath` (default "/auth") and of `jwks()`
   * at `jwksPath` (default "/.well-known/jwks.json"; null leaves it out), generated from the
   * schemas the router validates with.
   */
  openapi(options?: OpenApiOptions): OpenApiDocument;
  /** Verifies an access token (signature and claims, not the session) or throws AuthError. */
  verifyAccessToken(token: string): AccessTokenClaims;
  readonly service: AuthService;
  readonly store: Store;
  readonly keys: KeyRing;
  readonly config: GatehouseConfig;
  readonly logger: Logger;
  /** What was generated on this start (new database, new keys), for one announcement line. */
  readonly startupNotes: string[];
  close(): Promise<void>;
}

export interface OpenApiOptions {
  basePath?: string;
  jwksPath?: string | null;
}

const ROTATION_KEY_SETTING = "refresh_rotation_key";
/** Failed introspection-caller authentications allowed per address per window (the token itself is unguessable). */
const INTROSPECTION_FAILURES = { points: 20, durationSeconds: 900 };

/**
 * Builds a Gatehouse: validates options (errors name the option), opens and migrates the
 * store, loads or creates signing keys, and wires the services. Nothing here is per-request.
 *
 * @example
 * const auth = await createGatehouse({ database: "sqlite:./data/app.db" });
 * app.use("/auth", auth.router());
 * app.get("/api/orders", auth.requireAuth(), (req, res) => res.json(req.auth));
 */
export async function createGatehouse(options: CreateGatehouseOptions = {}): Promise<Gatehouse> {
  const { logger: givenLogger, store: givenStore, ...rest } = options;
  const config = resolveConfig(rest);
  const hmacSecret =
    config.accessTokenSecret === undefined
      ? undefined
      : assertStrongSecret(config.accessTokenSecret, "ACCESS_TOKEN_SECRET");
  const realm = config.realm;
  const logger = givenLogger ?? createLogger();
  const checkPassword = createPasswordPolicy(config.password);
  const hasher = createArgon2Hasher(config.argon2, config.argon2);
  const clock = config.clock;

  const store = givenStore ?? (await openStore(config.database));
  const startupNotes: string[] = [];
  try {
    await store.migrate();
    const { ring, created } = await loadKeyRing(store, {
      algorithm: config.signingAlgorithm,
      ...(hmacSecret ? { hmacSecret } : {}),
      clock,
      accessTokenTtlSeconds: config.accessTokenTtlSeconds,
    });
    startupNotes.push(...created);
    const candidate = randomBytes(32).toString("base64url");
    const rotationKey = await store.putSettingIfAbsent(ROTATION_KEY_SETTING, candidate);
    if (rotationKey === candidate) startupNotes.push("created refresh-rotation key");

    const throttleBackend = await countersOf(store);

    const sign = createAccessTokenSigner({
      ring,
      issuer: config.issuer,
      audience: config.audience,
      ttlSeconds: config.accessTokenTtlSeconds,
      clock,
    });
    const verifyAccessToken = createAccessTokenVerifier({
      resolveKey: (kid) => ring.resolve(kid),
      issuer: config.issuer,
      audience: config.audience,
      clock,
      maxLifetimeSeconds: config.accessTokenTtlSeconds,
      cache: config.verifyCacheSize > 0 ? { maxEntries: config.verifyCacheSize } : false,
    });
    const sessions = new SessionService(
      store,
      clock,
      {
        idleSeconds: config.refreshIdleSeconds,
        absoluteSeconds: config.refreshAbsoluteSeconds,
        graceSeconds: config.refreshGraceSeconds,
      },
      Buffer.from(rotationKey, "base64url"),
    );
    const service = new AuthService({
      store,
      config,
      clock,
      hasher,
      checkPasswordPolicy: (password, context) => checkPassword.check(password, context),
      loginThrottle: createLoginThrottle({
        perAccountAndIp: config.loginThrottle.perAccountAndIp,
        perIp: config.loginThrottle.perIp,
        backend: throttleBackend,
      }),
      registrationLimit: createRateLimit({
        points: config.registrationsPerIpPerHour,
        durationSeconds: 3600,
        backend: throttleBackend,
      }),
      sessions,
      signAccessToken: (subject) => sign(subject),
      verifyAccessToken,
    });
    const introspectionFailures = createRateLimit({
      ...INTROSPECTION_FAILURES,
      backend: throttleBackend,
      keyPrefix: "gatehouse:introspect",
    });
    // Without a session check the token alone decides, synchronously: the hot path stays promise-free.
    const authenticate = (token: string, checkSession: boolean) =>
      checkSession ? service.authenticate(token, true) : toAuthContext(verifyAccessToken(token));
    // Started last, once nothing else can fail: keys rotated by another instance or the CLI
    // reach this one within a minute.
    const stopKeyReload = hmacSecret
      ? () => undefined
      : keepKeyRingFresh(ring, store, { onError: (error) => logger.warn({ err: error }, "signing key reload failed") });

    return {
      router: () =>
        createAuthRouter({
          service,
          clock,
          logger,
          realm,
          bodyLimitBytes: config.bodyLimitBytes,
          allowedOrigins: config.allowedOrigins,
          cookie: config.cookie,
          introspectionToken: config.introspectionToken,
          introspectionFailures,
        }),
      openapi: (openApiOptions = {}) => {
        const jwksPath = openApiOptions.jwksPath === undefined ? jwksRoute.path : openApiOptions.jwksPath;
        return buildOpenApiDocument({
          groups: [
            { prefix: openApiOptions.basePath ?? "/auth", routes: authRoutes },
            ...(jwksPath === null ? [] : [{ prefix: "", routes: { jwks: { ...jwksRoute, path: jwksPath } } }]),
          ],
          cookieName: refreshCookieName(config.cookie.name, config.cookie.secure),
        });
      },
      requireAuth: (requireOptions) => createRequireAuth(authenticate, realm, requireOptions),
      jwks: () => (_req, res) => {
        res.setHeader("Cache-Control", "public, max-age=300");
        res.json(ring.jwks());
      },
      verifyAccessToken,
      service,
      store,
      keys: ring,
      config,
      logger,
      startupNotes,
      close: async () => {
        stopKeyReload();
        await store.close();
      },
    };
  } catch (error) {
    if (!givenStore) await store.close().catch(() => undefined);
    throw error;
  }
}

/**
 * The store's throttle counters: on PostgreSQL a table every instance shares, so limits hold
 * across instances; on SQLite this process's memory. A store without counters is refused
 * here rather than silently throttling per process.
 */
async function countersOf(store: Store): Promise<CounterStore> {
  if (typeof (store as Partial<Store>).counters !== "function") {
    throw new AuthError(
      "invalid_config",
      "The store given as the `store` option has no counters() method, which the login and registration throttles " +
        "need. Return the database's shared counters from it, or memoryCounters() if only one process uses the store.",
    );
  }
  return store.counters();
}
