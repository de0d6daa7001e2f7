import { z } from "zod";
import type { Clock } from "./clock.ts";
import { systemClock } from "./clock.ts";
import { AuthError } from "./errors.ts";

/**
 * Everything `createGatehouse()` accepts. Each option is validated once, at creation;
 * a bad value fails with an AuthError("invalid_config") whose message names the option.
 * The standalone server maps environment variables onto these (src/server/env-config.ts).
 */
export interface GatehouseOptions {
  /** `sqlite:<path>` (default `sqlite:./data/gatehouse.db`), `sqlite::memory:`, or `postgres://…`. */
  database?: string;
  /** `iss` of access tokens. Default `"gatehouse"`. */
  issuer?: string;
  /** `aud` of access tokens. Default `"gatehouse"`. */
  audience?: string;
  /** Access-token lifetime in seconds. Default 900 (15 minutes); 1 s to 1 day. */
  accessTokenTtlSeconds?: number;
  /** An HMAC secret switches access tokens to HS256 (at least 32 random bytes). */
  accessTokenSecret?: string;
  /** Asymmetric algorithm when no secret is set. Default `"EdDSA"` (Ed25519). */
  signingAlgorithm?: "EdDSA" | "ES256";
  /** A session ends after this long without a refresh. Default 7 days. */
  refreshIdleSeconds?: number;
  /** A session ends this long after login, whatever happens. Default 30 days. */
  refreshAbsoluteSeconds?: number;
  /** A rotated refresh token still yields the same successor this long. Default 5 s; 0 = off; at most 60. */
  refreshGraceSeconds?: number;
  /** Origins allowed to use cookie-authenticated POSTs besides the server's own. */
  allowedOrigins?: string[];
  /** Refresh cookie: name (default `gatehouse_refresh`), path (default: where the router is mounted), secure (default true). */
  cookie?: { name?: string; path?: string; secure?: boolean };
  /** Whether `POST /register` creates accounts. Default true. */
  registrationOpen?: boolean;
  /** Password length rule, in characters after NFKC. Default 15–256; minimum never below 8. */
  password?: { minLength?: number; maxLength?: number };
  /**
   * argon2id cost (defaults are OWASP's: 19 MiB, 2 passes, 1 lane) and how many hashes may run
   * at once (default cores − 1, at least 1) or wait (default 256; past that, 429).
   */
  argon2?: { memoryCost?: number; timeCost?: number; parallelism?: number; maxConcurrent?: number; maxQueued?: number };
  /** Failed-login throttling. */
  loginThrottle?: {
    perAccountAndIp?: { attempts?: number; windowSeconds?: number; blockSeconds?: number };
    perIp?: { attempts?: number; windowSeconds?: number; blockSeconds?: number };
  };
  /** Registrations allowed per IP per hour. Default 20. */
  registrationsPerIpPerHour?: number;
  /** Largest accepted JSON body in bytes. Default 16384. */
  bodyLimitBytes?: number;
  /** Capacity of the verified-access-token cache (0 disables). Default 10000. */
  verifyCacheSize?: number;
  /** Time source; tests pass a ManualClock. */
  clock?: Clock;
}

const positiveInt = (min: number, max: number) => z.number().int().min(min).max(max);

const limitSchema = z
  .object({
    attempts: positiveInt(1, 1_000_000).optional(),
    windowSeconds: positiveInt(1, 86_400 * 7).optional(),
    blockSeconds: positiveInt(0, 86_400).optional(),
  })
  .strict();

const optionsSchema = z
  .object({
    database: z.string().min(1).optional(),
    issuer: z.string().min(1).max(512).optional(),
    audience: z.string().min(1).max(512).optional(),
    accessTokenTtlSeconds: positiveInt(1, 86_400).optional(),
    accessTokenSecret: z.string().optional(),
    signingAlgorithm: z.enum(["EdDSA", "ES256"]).optional(),
    refreshIdleSeconds: positiveInt(60, 86_400 * 365).optional(),
    refreshAbsoluteSeconds: positiveInt(60, 86_400 * 366).optional(),
    refreshGraceSeconds: positiveInt(0, 60).optional(),
    allowedOrigins: z.array(z.string().url()).optional(),
    cookie: z
      .object({
        name: z
          .string()
          .regex(/^[A-Za-z0-9_-]{1,64}$/, "letters, digits, _ and - only")
          .optional(),
        path: z.string().startsWith("/").optional(),
        secure: z.boolean().optional(),
      })
      .strict()
      .optional(),
    registrationOpen: z.boolean().optional(),
    password: z
      .object({ minLength: positiveInt(8, 1024).optional(), maxLength: positiveInt(8, 1024).optional() })
      .strict()
      .optional(),
    argon2: z
      .object({
        memoryCost: positiveInt(1, 4_194_304).optional(),
        timeCost: positiveInt(1, 100).optional(),
        parallelism: positiveInt(1, 16).optional(),
        maxConcurrent: positiveInt(1, 64).optional(),
        maxQueued: positiveInt(0, 100_000).optional(),
      })
      .strict()
      .optional(),
    loginThrottle: z.object({ perAccountAndIp: limitSchema.optional(), perIp: limitSchema.optional() }).strict().optional(),
    registrationsPerIpPerHour: positiveInt(1, 1_000_000).optional(),
    bodyLimitBytes: positiveInt(1024, 1_048_576).optional(),
    verifyCacheSize: positiveInt(0, 10_000_000).optional(),
    clock: z.custom<Clock>((v) => typeof (v as Clock | undefined)?.now === "function", "must have a now() method").optional(),
  })
  .strict();

/** The validated, defaulted configuration every part of Gatehouse reads. */
export interface GatehouseConfig {
  database: string;
  issuer: string;
  audience: string;
  accessTokenTtlSeconds: number;
  accessTokenSecret: string | undefined;
  signingAlgorithm: "EdDSA" | "ES256";
  refreshIdleSeconds: number;
  refreshAbsoluteSeconds: number;
  refreshGraceSeconds: number;
  allowedOrigins: string[];
  cookie: { name: string; path: string | undefined; secure: boolean };
  registrationOpen: boolean;
  password: { minLength: number; maxLength: number };
  argon2: { memoryCost: number; timeCost: number; parallelism: number };
  hashing: { maxConcurrent?: number; maxQueued?: number };
  loginThrottle: {
    perAccountAndIp: { attempts: number; windowSeconds: number; blockSeconds: number };
    perIp: { attempts: number; windowSeconds: number; blockSeconds: number };
  };
  registrationsPerIpPerHour: number;
  bodyLimitBytes: number;
  verifyCacheSize: number;
  clock: Clock;
}

export const DEFAULT_DATABASE = "sqlite:./data/gatehouse.db";

/** Validates options and fills defaults. Throws AuthError("invalid_config") naming the option. */
export function resolveConfig(options: GatehouseOptions = {}): GatehouseConfig {
  const parsed = optionsSchema.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue?.path.join(".") || "options";
    throw new AuthError("invalid_config", `Gatehouse option "${path}": ${issue?.message ?? "invalid"}.`);
  }
  const o = parsed.data;
  const minLength = o.password?.minLength ?? 15;
  const maxLength = o.password?.maxLength ?? 256;
  if (maxLength < minLength) {
    throw new AuthError(
      "invalid_config",
      `Gatehouse option "password.maxLength" (${maxLength}) must be at least password.minLength (${minLength}).`,
    );
  }
  const idle = o.refreshIdleSeconds ?? 7 * 86_400;
  const absolute = o.refreshAbsoluteSeconds ?? 30 * 86_400;
  if (idle > absolute) {
    throw new AuthError(
      "invalid_config",
      `Gatehouse option "refreshIdleSeconds" (${idle}) must not exceed refreshAbsoluteSeconds (${absolute}).`,
    );
  }
  const allowedOrigins = (o.allowedOrigins ?? []).map((origin) => new URL(origin).origin);
  const tp = o.loginThrottle;
  return {
    database: o.database ?? DEFAULT_DATABASE,
    issuer: o.issuer ?? "gatehouse",
    audience: o.audience ?? "gatehouse",
    accessTokenTtlSeconds: o.accessTokenTtlSeconds ?? 900,
    accessTokenSecret: o.accessTokenSecret,
    signingAlgorithm: o.signingAlgorithm ?? "EdDSA",
    refreshIdleSeconds: idle,
    refreshAbsoluteSeconds: absolute,
    refreshGraceSeconds: o.refreshGraceSeconds ?? 5,
    allowedOrigins,
    cookie: { name: o.cookie?.name ?? "gatehouse_refresh", path: o.cookie?.path, secure: o.cookie?.secure ?? true },
    registrationOpen: o.registrationOpen ?? true,
    password: { minLength, maxLength },
    argon2: {
      memoryCost: o.argon2?.memoryCost ?? 19_456,
      timeCost: o.argon2?.timeCost ?? 2,
      parallelism: o.argon2?.parallelism ?? 1,
    },
    hashing: {
      ...(o.argon2?.maxConcurrent === undefined ? {} : { maxConcurrent: o.argon2.maxConcurrent }),
      ...(o.argon2?.maxQueued === undefined ? {} : { maxQueued: o.argon2.maxQueued }),
    },
    loginThrottle: {
      perAccountAndIp: {
        attempts: tp?.perAccountAndIp?.attempts ?? 10,
        windowSeconds: tp?.perAccountAndIp?.windowSeconds ?? 900,
        blockSeconds: tp?.perAccountAndIp?.blockSeconds ?? 900,
      },
      perIp: {
        attempts: tp?.perIp?.attempts ?? 100,
        windowSeconds: tp?.perIp?.windowSeconds ?? 900,
        blockSeconds: tp?.perIp?.blockSeconds ?? 900,
      },
    },
    registrationsPerIpPerHour: o.registrationsPerIpPerHour ?? 20,
    bodyLimitBytes: o.bodyLimitBytes ?? 16_384,
    verifyCacheSize: o.verifyCacheSize ?? 10_000,
    clock: o.clock ?? systemClock,
  };
}
