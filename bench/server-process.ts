/**
 * The server under load, in its own process (forked by server-handle.ts): one Express app
 * with a public route, Gatehouse's requireAuth() (the default, which checks the session, and
 * the stateless `checkSession: false`), the seeds' jsonwebtoken middleware, and the Gatehouse
 * auth routes for the login flood and token introspection.
 *
 * Environment: BENCH_DATABASE (sqlite:<path> or postgres://…), BENCH_SECRET (HS256 secret, seeds-style),
 * BENCH_SESSIONS (access tokens to hand out), BENCH_LOGIN_USERS (accounts for the flood),
 * BENCH_KEY_ENCRYPTION_KEY (optional; on PostgreSQL, so no key file is written).
 */
import { randomBytes, randomUUID } from "node:crypto";
import express, { type NextFunction, type Request, type Response } from "express";
import jsonwebtoken from "jsonwebtoken";
import type { AccessTokenClaims } from "../src/core/tokens/access-token-verifier.ts";
import { createAccessTokenSigner } from "../src/core/tokens/access-token-signer.ts";
import { generateRefreshToken, hashRefreshToken } from "../src/core/sessions/refresh-token.ts";
import { createGatehouse, type Gatehouse } from "../src/gatehouse.ts";
import { createLogger } from "../src/logging/logger.ts";
import { listen } from "../src/server/start-server.ts";
import type {
  Credentials,
  InsertSessionsResult,
  MemorySnapshot,
  ReadyMessage,
  ServerCommand,
  ServerReply,
  VerifyManyResult,
} from "./server-protocol.ts";

const CALLER = { ip: "127.0.0.1", userAgent: "gatehouse-bench" };
const SESSIONS_PER_TRANSACTION = 1000;
const SESSIONS_PER_USER = 100;

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`bench server: ${name} is not set`);
  return value;
}

function memorySnapshot(): MemorySnapshot {
  globalThis.gc?.();
  const { rss, heapUsed } = process.memoryUsage();
  return { rssMiB: rss / 2 ** 20, heapUsedMiB: heapUsed / 2 ** 20 };
}

/** The seeds' middleware, as written in the tutorial (jsonwebtoken.verify with a string secret and a callback). */
function seedsAuthenticateToken(secret: string) {
  return (req: Request, res: Response, next: NextFunction) => {
    const authHeader = req.headers["authorization"];
    const token = authHeader?.split(" ")[1];
    if (token == null) return res.sendStatus(401);
    jsonwebtoken.verify(token, secret, (err: unknown, user: unknown) => {
      if (err) return res.sendStatus(403);
      (req as Request & { user?: unknown }).user = user;
      next();
    });
  };
}

function buildApp(auth: Gatehouse, secret: string): express.Express {
  const app = express();
  app.disable("x-powered-by");
  // Every route answers the same small JSON, so only the authentication in front differs.
  app.get("/public", (_req, res) => {
    res.json({ message: "hello", user: null });
  });
  app.get("/protected", auth.requireAuth(), (req, res) => {
    res.json({ message: "hello", user: req.auth!.userId });
  });
  app.get("/protected-stateless", auth.requireAuth({ checkSession: false }), (req, res) => {
    res.json({ message: "hello", user: req.auth!.userId });
  });
  app.get("/seeds", seedsAuthenticateToken(secret), (req, res) => {
    res.json({ message: "hello", user: (req as Request & { user?: { sub?: string } }).user?.sub ?? null });
  });
  app.use("/auth", auth.router());
  return app;
}

/** UUID-shaped session ids that can be recomputed from their index, so 100k of them need not be kept in memory. */
function sessionIdSource(): (index: number) => string {
  const prefix = randomUUID().slice(0, 24);
  return (index) => `${prefix}${index.toString(16).padStart(12, "0")}`;
}

async function main(): Promise<void> {
  // A CPU profile is written only on a normal exit, and stop() sends SIGTERM.
  if (process.env["BENCH_CPU_PROFILE"]) process.prependListener("SIGTERM", () => process.exit(0));
  const secret = env("BENCH_SECRET");
  const introspectionToken = randomBytes(32).toString("hex");
  const auth = await createGatehouse({
    database: env("BENCH_DATABASE"),
    accessTokenSecret: secret,
    introspectionToken,
    ...(process.env["BENCH_KEY_ENCRYPTION_KEY"] ? { keyEncryptionKey: process.env["BENCH_KEY_ENCRYPTION_KEY"] } : {}),
    logger: createLogger({ level: "silent" }),
    // The flood comes from one address: lift the per-address limits so every login is hashed,
    // the worst case for the protected route (with the defaults most would be refused early).
    loginRate: { perIp: { attempts: 1_000_000 }, perAccount: { attempts: 1_000_000 } },
    argon2: { maxPerAddress: 10_000 },
  });
  const app = buildApp(auth, secret);
  const { url } = await listen(app, 0, "127.0.0.1");

  const password = randomBytes(18).toString("base64url");
  await auth.service.register("bench-reader", password, CALLER);
  const accessTokens: string[] = [];
  for (let n = 0; n < Number(env("BENCH_SESSIONS")); n++)
    accessTokens.push((await auth.service.login("bench-reader", password, CALLER)).accessToken);
  const loginUsers: Credentials[] = [];
  for (let n = 0; n < Number(env("BENCH_LOGIN_USERS")); n++) {
    const user = { username: `bench-login-${n}`, password: randomBytes(18).toString("base64url") };
    await auth.service.register(user.username, user.password, CALLER);
    loginUsers.push(user);
  }

  const sessionId = sessionIdSource();
  const userIds: string[] = [];
  let insertedSessions = 0;

  const insertSessions = async (count: number): Promise<InsertSessionsResult> => {
    const started = performance.now();
    const passwordHash = (await auth.store.findUserByUsername("bench-reader"))!.passwordHash;
    const now = auth.config.clock.now();
    const idleEnd = now + auth.config.refreshIdleSeconds * 1000;
    const absoluteEnd = now + auth.config.refreshAbsoluteSeconds * 1000;
    for (let first = 0; first < count; first += SESSIONS_PER_TRANSACTION) {
      await auth.store.transaction(async (tx) => {
        for (let index = first; index < Math.min(first + SESSIONS_PER_TRANSACTION, count); index++) {
          if (index % SESSIONS_PER_USER === 0) {
            const id = randomUUID();
            await tx.insertUser({
              id,
              username: `bench-mem-${id}`,
              passwordHash,
              createdAt: now,
              disabledAt: null,
              roles: [],
            });
            userIds.push(id);
          }
          const id = sessionId(index);
          await tx.insertSession({
            id,
            userId: userIds[Math.floor(index / SESSIONS_PER_USER)]!,
            createdAt: now,
            lastUsedAt: now,
            absoluteExpiresAt: absoluteEnd,
            idleExpiresAt: Math.min(idleEnd, absoluteEnd),
            endedAt: null,
            endReason: null,
            userAgent: CALLER.userAgent,
            ip: CALLER.ip,
            amr: ["pwd"],
          });
          await tx.insertRefreshToken({
            hash: hashRefreshToken(generateRefreshToken()),
            sessionId: id,
            createdAt: now,
            rotatedAt: null,
          });
        }
      });
    }
    insertedSessions = count;
    return { inserted: count, seconds: (performance.now() - started) / 1000, memory: memorySnapshot() };
  };

  const verifyMany = (count: number, perToken: number): VerifyManyResult => {
    if (insertedSessions === 0) throw new Error("insert sessions first");
    const sign = createAccessTokenSigner({
      ring: auth.keys,
      issuer: auth.config.issuer,
      audience: auth.config.audience,
      ttlSeconds: auth.config.accessTokenTtlSeconds,
      clock: auth.config.clock,
    });
    const cap = auth.config.verifyCacheSize;
    // The most recent tokens and the claims object each verification returned, for the probe below.
    const recentSize = 2 * cap + 1;
    const recent = new Array<{ token: string; claims: AccessTokenClaims }>(recentSize);
    const distinct = Math.ceil(count / perToken);
    const started = performance.now();
    let verifications = 0;
    for (let n = 0; n < distinct; n++) {
      const index = n % insertedSessions;
      const token = sign({ sub: userIds[Math.floor(index / SESSIONS_PER_USER)]!, sid: sessionId(index) }).token;
      let claims!: AccessTokenClaims;
      for (let k = 0; k < perToken && verifications < count; k++, verifications++)
        claims = auth.verifyAccessToken(token);
      recent[n % recentSize] = { token, claims };
    }
    const seconds = (performance.now() - started) / 1000;
    // Newest first: a cached token returns the identical claims object; the first miss marks the cache's extent.
    let cacheEntries = 0;
    for (let n = distinct - 1; n >= Math.max(0, distinct - recentSize); n--) {
      const { token, claims } = recent[n % recentSize]!;
      if (auth.verifyAccessToken(token) !== claims) break;
      cacheEntries++;
    }
    recent.fill(undefined as never);
    return { verifications, distinctTokens: distinct, seconds, cacheEntries, cacheCap: cap, memory: memorySnapshot() };
  };

  const handle = async (message: ServerCommand): Promise<unknown> => {
    switch (message.cmd) {
      case "memory":
        return memorySnapshot();
      case "insert-sessions":
        return insertSessions(message.count);
      case "verify-many":
        return verifyMany(message.count, message.perToken);
      case "session-checks":
        return auth.sessionCheckStatus();
    }
  };

  process.on("message", (message: ServerCommand) => {
    handle(message).then(
      (result) => process.send!({ id: message.id, ok: true, result } satisfies ServerReply),
      (error: unknown) =>
        process.send!({
          id: message.id,
          ok: false,
          error: error instanceof Error ? error.message : String(error),
        } satisfies ServerReply),
    );
  });
  // The bench went away: nothing left to serve.
  process.on("disconnect", () => process.exit(0));

  const ready: ReadyMessage = {
    type: "ready",
    url,
    accessTokens,
    introspectionToken,
    loginUsers,
    cacheCap: auth.config.verifyCacheSize,
    memory: memorySnapshot(),
  };
  process.send!(ready);
}

main().catch((error: unknown) => {
  console.error("bench server failed:", error);
  process.exit(1);
});
