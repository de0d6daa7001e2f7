import { AuthError } from "../core/errors.ts";
import type { GatehouseOptions } from "../core/config.ts";
import { parseDurationSeconds } from "../core/duration.ts";
import type { LogLevel } from "../logging/logger.ts";

export interface ServerSettings {
  port: number;
  host: string;
  logLevel: LogLevel;
  /** Express `trust proxy`: how many proxies' X-Forwarded-For to believe (0 = none). */
  trustProxy: number;
  options: GatehouseOptions;
}

type Env = Record<string, string | undefined>;

const fail = (name: string, problem: string): never => {
  throw new AuthError("invalid_config", `${name} ${problem}`);
};

function intSetting(env: Env, name: string, min: number, max: number): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === "") return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) fail(name, `must be a whole number from ${min} to ${max} (got "${raw.slice(0, 40)}").`);
  return value;
}

function durationSetting(env: Env, name: string, min: number, max: number): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === "") return undefined;
  const value = parseDurationSeconds(raw);
  if (value === undefined || value < min || value > max) {
    fail(name, `must be a duration like 900, 15m, 12h or 7d, between ${min} and ${max} seconds (got "${raw.slice(0, 40)}").`);
  }
  return value;
}

function boolSetting(env: Env, name: string): boolean | undefined {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === "") return undefined;
  if (["1", "true", "yes", "on", "open"].includes(raw)) return true;
  if (["0", "false", "no", "off", "closed"].includes(raw)) return false;
  return fail(name, `must be true or false (got "${raw.slice(0, 40)}").`);
}

function enumSetting<T extends string>(env: Env, name: string, allowed: readonly T[]): T | undefined {
  const raw = env[name];
  if (raw === undefined || raw === "") return undefined;
  if (!(allowed as readonly string[]).includes(raw)) fail(name, `must be one of ${allowed.join(", ")} (got "${raw.slice(0, 40)}").`);
  return raw as T;
}

function originsSetting(env: Env, name: string): string[] | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return undefined;
  return raw.split(",").map((entry) => {
    const text = entry.trim();
    try {
      const url = new URL(text);
      if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error("scheme");
      return url.origin;
    } catch {
      return fail(name, `must be a comma-separated list of origins like https://app.example.com (bad entry "${text.slice(0, 60)}").`);
    }
  });
}

/** Assigns only defined values, so `exactOptionalPropertyTypes` and option defaults both hold. */
function defined<T extends object>(values: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as { [K in keyof T]: Exclude<T[K], undefined> };
}

/**
 * Environment → settings. Every variable is checked here, at start-up, and a bad one stops
 * the server with one line naming it. The full list is in the README.
 */
export function readEnvConfig(env: Env): ServerSettings {
  const registration = enumSetting(env, "REGISTRATION", ["open", "closed"] as const);
  const cookieSecure = boolSetting(env, "COOKIE_SECURE");
  const cookieName = env["COOKIE_NAME"];
  const minLength = intSetting(env, "PASSWORD_MIN_LENGTH", 8, 1024);
  const maxLength = intSetting(env, "PASSWORD_MAX_LENGTH", 8, 1024);
  const loginAttempts = intSetting(env, "LOGIN_MAX_ATTEMPTS", 1, 10_000);
  const loginIpAttempts = intSetting(env, "LOGIN_MAX_ATTEMPTS_PER_IP", 1, 1_000_000);
  const loginWindow = durationSetting(env, "LOGIN_WINDOW", 1, 86_400);
  const databaseUrl = env["DATABASE_URL"];
  const options: GatehouseOptions = defined({
    database: databaseUrl === "" ? undefined : databaseUrl,
    issuer: env["ISSUER"] || undefined,
    audience: env["AUDIENCE"] || undefined,
    accessTokenTtlSeconds: durationSetting(env, "ACCESS_TOKEN_TTL", 10, 86_400),
    accessTokenSecret: env["ACCESS_TOKEN_SECRET"] || undefined,
    signingAlgorithm: enumSetting(env, "JWT_ALGORITHM", ["EdDSA", "ES256"] as const),
    refreshIdleSeconds: durationSetting(env, "REFRESH_IDLE_TTL", 60, 86_400 * 365),
    refreshAbsoluteSeconds: durationSetting(env, "REFRESH_ABSOLUTE_TTL", 60, 86_400 * 366),
    refreshGraceSeconds: durationSetting(env, "REFRESH_GRACE", 0, 60),
    allowedOrigins: originsSetting(env, "ALLOWED_ORIGINS"),
    registrationOpen: registration === undefined ? undefined : registration === "open",
    bodyLimitBytes: intSetting(env, "BODY_LIMIT_BYTES", 1024, 1_048_576),
  });
  if (cookieSecure !== undefined || cookieName) {
    options.cookie = defined({ secure: cookieSecure, name: cookieName || undefined });
    if (cookieName && !/^[A-Za-z0-9_-]{1,64}$/.test(cookieName)) fail("COOKIE_NAME", "may contain only letters, digits, _ and - (up to 64).");
  }
  if (minLength !== undefined || maxLength !== undefined) options.password = defined({ minLength, maxLength });
  if (loginAttempts !== undefined || loginIpAttempts !== undefined || loginWindow !== undefined) {
    options.loginThrottle = {
      perAccountAndIp: defined({ attempts: loginAttempts, windowSeconds: loginWindow, blockSeconds: loginWindow }),
      perIp: defined({ attempts: loginIpAttempts, windowSeconds: loginWindow, blockSeconds: loginWindow }),
    };
  }
  return {
    port: intSetting(env, "PORT", 0, 65_535) ?? 3000,
    host: env["HOST"] || "localhost",
    logLevel: enumSetting(env, "LOG_LEVEL", ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const) ?? "info",
    trustProxy: intSetting(env, "TRUST_PROXY", 0, 10) ?? 0,
    options,
  };
}
