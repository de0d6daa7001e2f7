import { randomBytes } from "node:crypto";
import type { RequestHandler, Router } from "express";
import { AuthService, toAuthContext } from "./core/auth-service.ts";
import { type GatehouseConfig, type GatehouseOptions, resolveConfig } from "./core/config.ts";
import { type Metrics, NO_METRICS } from "./core/observability/metrics.ts";
import { createReadinessProbe, type ReadinessProbe } from "./core/observability/readiness.ts";
import { tokenRejectionOf } from "./core/observability/token-rejection.ts";
import {
  followKeyChanges,
  type KeyRing,
  keepKeyRingFresh,
  loadKeyRing,
  sealedSigningKeys,
} from "./core/keys/key-ring.ts";
import { assertStrongSecret } from "./core/keys/secret-strength.ts";
import { MfaAccount } from "./core/mfa/mfa-account.ts";
import { MfaService } from "./core/mfa/mfa-service.ts";
import { PasskeyService, relyingPartyOf } from "./core/mfa/passkeys.ts";
import { createArgon2Hasher } from "./core/passwords/argon2-hasher.ts";
import type { HashingLoad } from "./core/passwords/hashing-slots.ts";
import { createPasswordPolicy } from "./core/passwords/password-policy.ts";
import { RevocationList } from "./core/revocation/revocation-list.ts";
import { schedulePruning } from "./core/sessions/prune-schedule.ts";
import { type SessionCheckStatus, SessionService } from "./core/sessions/session-service.ts";
import { createEventParts } from "./core/events/event-parts.ts";
import type { SecurityEventListener, SecurityEvents } from "./core/events/security-events.ts";
import type { PruneResult } from "./core/events/audit-retention.ts";
import { type ExpiredTokensPruned, pruneExpiredTokens } from "./core/expired-tokens.ts";
import type { Outbox } from "./core/outbox/outbox.ts";
import type { OutboxWorker } from "./core/outbox/outbox-worker.ts";
import { AuthError } from "./core/errors.ts";
import type { CounterStore } from "./core/store/counters.ts";
import { createLoginThrottle, createRateLimit } from "./core/throttle/login-throttle.ts";
import { createAccessTokenSigner } from "./core/tokens/access-token-signer.ts";
import { type AccessTokenClaims, createAccessTokenVerifier } from "./core/tokens/access-token-verifier.ts";
import { EmailService, RESET_REQUEST_KIND } from "./core/email/email-service.ts";
import { createFileTransport } from "./core/mail/file-transport.ts";
import { createMailHandler } from "./core/mail/mail-handler.ts";
import { MAIL_KIND } from "./core/mail/mail-queue.ts";
import type { MailTransport } from "./core/mail/mail-transport.ts";
import { createSmtpTransport } from "./core/mail/smtp-transport.ts";
import { type MailTemplates, mailTemplates } from "./core/mail/templates.ts";
import { refreshCookieName } from "./express/cookies.ts";
import { buildOpenApiDocument, type OpenApiDocument } from "./express/openapi.ts";
import { createAuthRouter } from "./express/router.ts";
import { authRoutes, jwksRoute } from "./express/routes.ts";
import { createRequireAuth, type RequireAuthOptions } from "./express/require-auth.ts";
import { createLogger, type Logger } from "./logging/logger.ts";
import { type HealthHandlers, healthEndpoints } from "./observability/health-endpoints.ts";
import { type MetricsAccess, metricsEndpoint } from "./observability/metrics-endpoint.ts";
import type { ScrapableMetrics } from "./observability/prometheus.ts";
import { countingHasherRefusals, countingLoginRefusals, countingRateLimitRefusals } from "./observability/refusals.ts";
import { keyFileFor, openStore } from "./store/open-store.ts";
import type { ChangeFeedCapability, Store } from "./core/store/store.ts";
import { loadSecretBox } from "./core/crypto/load-secret-box.ts";
import type { SecretBox } from "./core/crypto/secret-box.ts";
import { settingContext } from "./core/crypto/secret-contexts.ts";

export interface CreateGatehouseOptions extends GatehouseOptions {
  /** A pino logger; default: JSON lines on stdout at "info". Tokens, passwords and cookies are redacted. */
  logger?: Logger;
  /**
   * Use an already-open store instead of `database` (tests, custom adapters). It must offer
   * `counters()`; a store only one process uses may return `memoryCounters()`.
   */
  store?: Store;
  /**
   * Called in this process with every security event once its transaction has committed.
   * It never delays or fails the request: a throw or rejection is logged and ignored.
   */
  onEvent?: SecurityEventListener;
  /**
   * Whether this process runs the background work: the outbox worker (webhooks, mail) and the
   * hourly pruning of old audit events. Default true; the CLI turns it off, leaving the work to
   * the server (an outbox message it writes is delivered by the server's next poll).
   */
  backgroundWork?: boolean;
  /** Replacements for the default mails, by name: functions returning `{ subject, text, html }`. */
  emailTemplates?: Partial<MailTemplates>;
  /** Where mail goes instead of SMTP_URL or the outbox directory (tests, custom transports). */
  mailTransport?: MailTransport;
}

/** Work to finish before the database closes (background workers), run by `close()` in order. */
export type CloseHook = () => Promise<void> | void;

export interface Gatehouse {
  /** The auth routes; mount with `app.use("/auth", auth.router())`. */
  router(): Router;
  /** Bearer middleware for your routes; sets `req.auth`. */
  requireAuth(options?: RequireAuthOptions): RequestHandler;
  /** `GET` handler serving the public keys; mount at `/.well-known/jwks.json`. */
  jwks(): RequestHandler;
  /**
   * `GET` handler for Prometheus (mount at `/metrics`). Answers 404 unless metrics are on:
   * `metricsToken` set (then a bearer token is required) or `metrics: "public"`.
   */
  metrics(): RequestHandler;
  /** `GET` handlers for `/healthz` (the process answers) and `/readyz` (database, schema, keys; 503 otherwise). */
  health(): HealthHandlers;
  /** From now on `/readyz` answers 503, so load balancers stop sending traffic; `close()` implies it. */
  startDraining(): void;
  /** Registers work `close()` runs before it closes the database (e.g. stopping a background worker). */
  onClose(hook: CloseHook): void;
  /**
   * The OpenAPI 3.1 document of `router()` mounted at `basePath` (default "/auth") and of `jwks()`
   * at `jwksPath` (default "/.well-known/jwks.json"; null leaves it out), generated from the
   * schemas the router validates with.
   */
  openapi(options?: OpenApiOptions): OpenApiDocument;
  /** Verifies an access token (signature and claims, not the session) or throws AuthError. */
  verifyAccessToken(token: string): AccessTokenClaims;
  /**
   * Where session checks are answered from right now: memory (the revocation list the
   * store's change feed keeps) or the database (no feed, or it is down or catching up).
   */
  sessionCheckStatus(): SessionCheckStatus;
  /** What Gatehouse counts (no-ops when metrics are off); background workers and the server report here too. */
  readonly meter: Metrics;
  /** Security events: `events.subscribe(listener)` adds an in-process subscriber, like `onEvent`. */
  readonly events: SecurityEvents;
  /** Messages delivered after commit by the one worker (webhooks and mail). */
  readonly outbox: Outbox;
  /** The worker delivering the outbox; `outboxWorker.stop()` ends it cleanly (`close()` does too). */
  readonly outboxWorker: OutboxWorker;
  /** Deletes audit events older than the retention (and old outbox messages) now; also done hourly. */
  pruneExpiredEvents(): Promise<PruneResult>;
  /** Deletes expired mailed links, second-step tokens and WebAuthn challenges now; also done hourly. */
  pruneExpiredTokens(): Promise<ExpiredTokensPruned>;
  readonly service: AuthService;
  /** Second factors (TOTP, recovery codes), e.g. for an administrator's reset. */
  readonly mfa: MfaService;
  /** Verified addresses, recovery and security notices (e.g. `email.notifyUser(id, "mfa_enabled")`). */
  readonly email: EmailService;
  readonly store: Store;
  readonly keys: KeyRing;
  /**
   * Encrypts secrets for storage under the key-encryption key (KEY_ENCRYPTION_KEY, or the key
   * file generated next to the database). Services that store a secret seal it with this.
   */
  readonly secretBox: SecretBox;
  readonly config: GatehouseConfig;
  readonly logger: Logger;
  /** This process's password hashing: running, waiting, and begun since start (real argon2 computations). */
  readonly passwordHashing: HashingLoad;
  /** What was generated on this start (new database, new keys), for one announcement line. */
  readonly startupNotes: string[];
  close(): Promise<void>;
}

export interface OpenApiOptions {
  basePath?: string;
  jwksPath?: string | null;
}

const ROTATION_KEY_SETTING = "refresh_rotation_key";
const TOKEN_PRUNE_INTERVAL_MS = 3_600_000;
/** Failed introspection-caller authentications allowed per address per window (the token itself is unguessable). */
const INTROSPECTION_FAILURES = { points: 20, durationSeconds: 900 };
/** Start-up waits at most this long for the revocation list to catch up; meanwhile checks read the database. */
const REVOCATION_START_WAIT_MS = 3000;

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
  const {
    logger: givenLogger,
    store: givenStore,
    onEvent,
    backgroundWork = true,
    emailTemplates,
    mailTransport: givenTransport,
    ...rest
  } = options;
  const config = resolveConfig(rest);
  const metricsAccess = metricsAccessOf(config);
  const hmacSecret =
    config.accessTokenSecret === undefined
      ? undefined
      : assertStrongSecret(config.accessTokenSecret, "ACCESS_TOKEN_SECRET");
  const realm = config.realm;
  const logger = givenLogger ?? createLogger();
  const checkPassword = createPasswordPolicy(config.password);
  const clock = config.clock;
  // prom-client is loaded only when metrics are on; off, every count is an empty call.
  const scrapable: ScrapableMetrics | undefined =
    metricsAccess.mode === "off"
      ? undefined
      : (await import("./observability/prometheus.ts")).createPrometheusMetrics();
  const metrics: Metrics = scrapable ?? NO_METRICS;
  const argon2 = createArgon2Hasher(config.argon2, config.argon2);
  const hasher = countingHasherRefusals(argon2, metrics);

  const store = givenStore ?? (await openStore(config.database));
  const startupNotes: string[] = [];
  // What close() (or a failed start) stops before the store closes: hashing threads, feed subscriptions, key reload.
  const stops: (() => unknown)[] = [() => argon2.close()];
  const stopAll = async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
  };
  try {
    await store.migrate();
    const throttleBackend = await countersOf(store);
    const secrets = await loadSecretBox(store, {
      setting: config.keyEncryptionKey,
      file: keyFileFor(config.database),
      postgres: /^postgres(?:ql)?:/i.test(config.database.trim()),
    });
    const secretBox = secrets.box;
    startupNotes.push(...secrets.notes);
    for (const warning of secrets.warnings) logger.warn(warning);

    const { ring, created } = await loadKeyRing(sealedSigningKeys(store, secretBox), {
      algorithm: config.signingAlgorithm,
      ...(hmacSecret ? { hmacSecret } : {}),
      clock,
      accessTokenTtlSeconds: config.accessTokenTtlSeconds,
    });
    startupNotes.push(...created);
    const rotationKey = await loadRotationKey(store, secretBox);
    if (rotationKey.created) startupNotes.push("created refresh-rotation key");
    const eventParts = createEventParts({
      settings: config,
      store,
      clock,
      log: logger,
      // Outbox payloads holding a secret (a mail's link) are sealed under the key-encryption key.
      sealer: secretBox,
      onEvent,
      onOutboxBacklog: (count) => metrics.setOutboxBacklog(count),
      onOutboxDeliveryFailed: (kind) => metrics.outboxDeliveryFailed(kind),
    });

    const passkeys = new PasskeyService({ store, clock, rp: relyingPartyOf(config.publicUrl, config.issuer) });
    const mfa = new MfaService({
      store,
      clock,
      sealer: secretBox,
      totpIssuer: config.issuer,
      passkeys,
    });
    // One outbox and one worker for every kind: webhooks and mail.
    const { outbox, worker: outboxWorker } = eventParts;
    const mailTransport =
      givenTransport ??
      (config.email.smtpUrl !== undefined
        ? createSmtpTransport({ url: config.email.smtpUrl })
        : createFileTransport({ directory: config.email.outboxDir, log: logger }));

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
      clockToleranceSeconds: config.clockToleranceSeconds,
      cache: config.verifyCacheSize > 0 ? { maxEntries: config.verifyCacheSize } : false,
    });
    const revocations = followRevocations(store, config, logger, stops);
    const sessions = new SessionService(
      store,
      clock,
      {
        idleSeconds: config.refreshIdleSeconds,
        absoluteSeconds: config.refreshAbsoluteSeconds,
        graceSeconds: config.refreshGraceSeconds,
      },
      Buffer.from(rotationKey.value, "base64url"),
      config.maxSessionsPerUser,
      { metrics, log: logger, revocations, events: eventParts.events },
    );
    const email = new EmailService({
      store,
      clock,
      outbox,
      hasher,
      checkPasswordPolicy: (password, context) => checkPassword.check(password, context),
      publicUrl: config.publicUrl,
      perIp: createRateLimit({
        points: config.email.requestsPerIpPerHour,
        durationSeconds: 3600,
        backend: throttleBackend,
        keyPrefix: "gatehouse:mail-ip",
      }),
      perAddress: createRateLimit({
        points: config.email.requestsPerAddressPerHour,
        durationSeconds: 3600,
        backend: throttleBackend,
        keyPrefix: "gatehouse:mail-address",
      }),
      log: logger,
      events: eventParts.events,
    });
    sessions.onRefreshReused = (tx, user) => email.notify(tx, user, "refresh_reused");
    outboxWorker.register(
      MAIL_KIND,
      createMailHandler({
        transport: mailTransport,
        templates: mailTemplates(emailTemplates),
        from: config.email.from,
      }),
      // nodemailer gives up on a silent server after 10 s per step; the lease a crash leaves behind is this plus 5 s.
      { timeoutMs: 30_000 },
    );
    outboxWorker.register(RESET_REQUEST_KIND, (message) => email.deliverResetRequest(message), { timeoutMs: 10_000 });
    const loginThrottle = countingLoginRefusals(
      createLoginThrottle({
        perAccountAndIp: config.loginThrottle.perAccountAndIp,
        perIp: config.loginThrottle.perIp,
        attempts: config.loginRate,
        backend: throttleBackend,
      }),
      metrics,
      (ip) => logger.warn({ ip }, "login throttled"),
    );
    const registrationLimit = createRateLimit({
      points: config.registrationsPerIpPerHour,
      durationSeconds: 3600,
      backend: throttleBackend,
    });
    const service = new AuthService({
      store,
      config,
      clock,
      hasher,
      checkPasswordPolicy: (password, context) => checkPassword.check(password, context),
      loginThrottle,
      registrationLimit: countingRateLimitRefusals(registrationLimit, metrics, "registration"),
      sessions,
      signAccessToken: (subject) => sign(subject),
      verifyAccessToken,
      metrics,
      log: logger,
      mfa,
      passkeys,
      events: eventParts.events,
      email,
    });
    const introspectionFailures = createRateLimit({
      ...INTROSPECTION_FAILURES,
      backend: throttleBackend,
      keyPrefix: "gatehouse:introspect",
    });
    const mfaAccount = new MfaAccount({ auth: service, mfa, store, clock, passkeys, events: eventParts.events, email });
    // Without a session check the token alone decides, synchronously: the hot path stays promise-free.
    const authenticate = (token: string, checkSession: boolean) =>
      checkSession ? service.authenticate(token, true) : toAuthContext(verifyAccessToken(token));
    // Keys rotated or removed by another instance or the CLI reach this one through the change
    // feed at once; the minute's poll is the safety net (and all a store without a feed gets).
    const onKeyError = (error: unknown) => logger.warn({ err: error }, "signing key reload failed");
    if (!hmacSecret) {
      const keys = sealedSigningKeys(store, secretBox);
      stops.push(keepKeyRingFresh(ring, keys, { onError: onKeyError }));
      if (hasChangeFeed(store)) stops.push(followKeyChanges(ring, keys, store, { onError: onKeyError }));
    }
    if (revocations) await revocations.whenLive(REVOCATION_START_WAIT_MS);
    // Counting refusals is the only cost metrics add to a bearer check, and only on failure.
    const onTokenRefused = scrapable === undefined ? undefined : countTokenRefusal(metrics);
    const readiness = createReadinessProbe({
      pingDatabase: () => store.ping(),
      // A custom store written before this method existed migrated at start-up: take its word.
      schemaIsCurrent: async () => (typeof store.schemaIsCurrent === "function" ? store.schemaIsCurrent() : true),
      keysLoaded: () => hasSigningKey(ring),
    });
    const stopPruning = schedulePruning(sessions, {
      intervalSeconds: config.sessionPruneIntervalSeconds,
      retentionSeconds: config.sessionRetentionSeconds,
      onPruned: (removed) => logger.info({ removed }, "pruned ended and expired sessions"),
      onError: (error) => logger.warn({ err: error }, "session pruning failed; trying again at the next interval"),
    });
    // Expired links, second-step tokens and challenges are refused whether or not their row is still there.
    const pruneTokens = () => pruneExpiredTokens(store, clock.now());
    const tokenPruning = setInterval(() => {
      pruneTokens().catch((error) => logger.warn({ err: error }, "pruning expired one-time tokens failed"));
    }, TOKEN_PRUNE_INTERVAL_MS);
    tokenPruning.unref();
    // The outbox worker stops first (deliveries in flight finish and are recorded), and a prune in
    // progress finishes, before the mail transport and the database close.
    const closeHooks: CloseHook[] = [
      () => clearInterval(tokenPruning),
      () => eventParts.stop(),
      stopPruning,
      () => mailTransport.close(),
    ];
    let closing: Promise<void> | undefined;
    if (backgroundWork) eventParts.startBackgroundWork();

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
          onTokenRefused,
          introspectionToken: config.introspectionToken,
          introspectionFailures,
          mfaAccount,
          mfa,
          email,
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
      requireAuth: (requireOptions) => createRequireAuth(authenticate, realm, requireOptions, onTokenRefused),
      jwks: () => (_req, res) => {
        res.setHeader("Cache-Control", "public, max-age=300");
        res.json(ring.jwks());
      },
      metrics: () => metricsEndpoint(scrapable, metricsAccess, realm),
      health: () => healthEndpoints(readiness),
      startDraining: () => readiness.startDraining(),
      onClose: (hook) => {
        closeHooks.push(hook);
      },
      verifyAccessToken,
      sessionCheckStatus: () => sessions.checkStatus(),
      meter: metrics,
      events: eventParts.events,
      outbox: eventParts.outbox,
      outboxWorker: eventParts.worker,
      pruneExpiredEvents: () => eventParts.pruneNow(),
      pruneExpiredTokens: pruneTokens,
      service,
      mfa,
      email,
      store,
      keys: ring,
      secretBox,
      config,
      logger,
      passwordHashing: argon2.load,
      startupNotes,
      close: () => {
        closing ??= closeAll(readiness, stopAll, closeHooks, logger, store);
        return closing;
      },
    };
  } catch (error) {
    await stopAll().catch(() => undefined);
    if (!givenStore) await store.close().catch(() => undefined);
    throw error;
  }
}

function hasChangeFeed(store: Store): store is Store & Required<ChangeFeedCapability> {
  return typeof store.subscribeChanges === "function" && typeof store.listEndedSessions === "function";
}

/**
 * The revocation list for session checks, fed by the store's change feed; undefined (every
 * session check reads the database) for a store without one. Its stops go on `stops`.
 */
function followRevocations(
  store: Store,
  config: GatehouseConfig,
  logger: Logger,
  stops: (() => unknown)[],
): RevocationList | undefined {
  if (!hasChangeFeed(store)) {
    logger.warn("the store has no change feed (subscribeChanges): every session check reads the database");
    return undefined;
  }
  const revocations = new RevocationList(store, {
    clock: config.clock,
    tokenWindowMs: (config.accessTokenTtlSeconds + config.clockToleranceSeconds) * 1000,
    onError: (error) => logger.warn({ err: error }, "revocation catch-up failed; session checks read the database"),
  });
  stops.push(() => revocations.close());
  const subscription = store.subscribeChanges(revocations);
  stops.push(() => subscription.close());
  return revocations;
}

/** Metrics are on with a token (protected) or `"public"`; the token wins when both are given. */
function metricsAccessOf(config: GatehouseConfig): MetricsAccess {
  if (config.metricsToken !== undefined) return { mode: "token", token: config.metricsToken };
  return config.metrics === "public" ? { mode: "public" } : { mode: "off" };
}

function countTokenRefusal(metrics: Metrics): (error: unknown) => void {
  return (error) => {
    const reason = tokenRejectionOf(error);
    if (reason !== undefined) metrics.tokenRejected(reason);
  };
}

function hasSigningKey(ring: KeyRing): boolean {
  try {
    ring.signingKey();
    return true;
  } catch {
    return false;
  }
}

/**
 * Shutdown of the library part: readiness turns 503, the change feed and the key reload stop
 * (session checks read the database from then on), registered hooks run (a failing one is
 * logged and the rest still run), then the store closes.
 */
async function closeAll(
  readiness: ReadinessProbe,
  stopFollowing: () => Promise<void>,
  hooks: readonly CloseHook[],
  logger: Logger,
  store: Store,
): Promise<void> {
  readiness.startDraining();
  await stopFollowing().catch((error: unknown) => logger.error({ err: error }, "stopping the change feed failed"));
  for (const hook of hooks) {
    try {
      await hook();
    } catch (error) {
      logger.error({ err: error }, "a close hook failed");
    }
  }
  await store.close();
}

/**
 * The HMAC key refresh-token rotation uses, shared by every instance: the first start stores
 * one (sealed; first writer wins), every start reads it.
 */
async function loadRotationKey(store: Store, box: SecretBox): Promise<{ value: string; created: boolean }> {
  const context = settingContext(ROTATION_KEY_SETTING);
  const candidate = randomBytes(32).toString("base64url");
  const stored = await store.putSettingIfAbsent(ROTATION_KEY_SETTING, box.seal(candidate, context));
  const value = box.open(stored, context);
  return { value, created: value === candidate };
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
