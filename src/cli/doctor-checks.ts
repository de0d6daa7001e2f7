import { existsSync } from "node:fs";
import { type EnvironmentReading, readEnvironment, variableOf } from "../core/config.ts";
import { VARIABLES } from "../core/config/environment.ts";
import { valueAt } from "../core/config/setting.ts";
import { isAuthError } from "../core/errors.ts";
import { openStore, redactUrl, sqliteFileOf } from "../store/open-store.ts";

/** fail: unsafe or broken (exit 1); warn: worth a look, a legitimate choice; ok: checked and fine. */
export type FindingStatus = "ok" | "warn" | "fail";

export interface Finding {
  /** The setting (environment variable) the finding is about. */
  setting: string;
  status: FindingStatus;
  message: string;
}

/** One environment variable's value in force and where it came from. */
export interface SettingInForce {
  variable: string;
  /** As it would be written in the environment; a sensitive one set there is not shown. */
  value: string;
  source: "environment" | "default";
}

/** NIST SP 800-63B-4 asks 15 characters for passwords that are the only factor. */
const SAFE_PASSWORD_MIN_LENGTH = 15;
const LOCAL_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * Checks the settings without touching the database. Every bad variable is a failure of its
 * own (the server would stop on the first); the other checks look at the values in force.
 * Never echoes a secret.
 */
export function checkSettings(env: Record<string, string | undefined>): {
  reading: EnvironmentReading;
  findings: Finding[];
} {
  const reading = readEnvironment(env);
  const findings: Finding[] = reading.problems.map((problem) => ({
    setting: problem.setting,
    status: "fail",
    message: problem.message,
  }));
  const refused = new Set(findings.map((finding) => finding.setting));
  const add = (path: string, status: FindingStatus, message: string) => {
    const setting = variableOf(path) ?? path;
    if (!refused.has(setting)) findings.push({ setting, status, message });
  };
  const { config } = reading;

  if (!config.cookie.secure) {
    add(
      "cookie.secure",
      "fail",
      "COOKIE_SECURE=false sends the refresh cookie over plain HTTP; use it only for local development.",
    );
  } else add("cookie.secure", "ok", "refresh cookie is Secure.");

  if (config.accessTokenSecret !== undefined) {
    add("accessTokenSecret", "ok", "HS256 secret looks strong (remember every verifier holds it).");
  } else if (!refused.has("ACCESS_TOKEN_SECRET")) {
    add("signingAlgorithm", "ok", `asymmetric signing (${config.signingAlgorithm}), keys in the database.`);
  }

  if (!config.registrationOpen) add("registrationOpen", "ok", "registration is closed.");
  else {
    add(
      "registrationOpen",
      "warn",
      "REGISTRATION is open: anyone who can reach the server can create an account. " +
        "Set REGISTRATION=closed and add users with `gatehouse users add` if that is not intended.",
    );
  }

  // Metrics show which limits fire and how often: useful to an attacker probing them.
  if (config.metrics === "public") {
    add(
      "metrics",
      "warn",
      "METRICS=public serves GET /metrics to anyone who can reach the server. " +
        "Set METRICS_TOKEN instead (Prometheus sends it as a bearer token), or keep /metrics on a private network.",
    );
  } else if (config.metricsToken !== undefined) add("metrics", "ok", "GET /metrics needs METRICS_TOKEN.");
  else add("metrics", "ok", "GET /metrics is off.");

  const plainOrigins = config.allowedOrigins.filter((origin) => {
    const url = new URL(origin);
    return url.protocol === "http:" && !LOCAL_HOSTS.has(url.hostname);
  });
  if (plainOrigins.length > 0) {
    add(
      "allowedOrigins",
      "fail",
      `ALLOWED_ORIGINS has plain-http origins (${plainOrigins.join(", ")}); use https:// outside localhost.`,
    );
  } else add("allowedOrigins", "ok", "allowed origins use https (or localhost).");

  const { minLength } = config.password;
  if (minLength < SAFE_PASSWORD_MIN_LENGTH) {
    add(
      "password.minLength",
      "fail",
      `PASSWORD_MIN_LENGTH=${minLength} is short; ` +
        `single-factor passwords should be at least ${SAFE_PASSWORD_MIN_LENGTH} characters.`,
    );
  } else add("password.minLength", "ok", `passwords need at least ${minLength} characters.`);

  return { reading, findings };
}

/** Every environment variable with the value in force, from the same reading the checks used. */
export function settingsInForce(reading: EnvironmentReading): SettingInForce[] {
  return VARIABLES.map((variable) => {
    const path = variable.entries[0]!.path;
    const value = valueAt(variable.target === "server" ? reading.server : reading.config, path);
    const fromEnvironment =
      reading.set.has(variable.name) && !reading.problems.some((p) => p.setting === variable.name);
    const shown = variable.sensitive && fromEnvironment ? "set (not shown)" : variable.kind.showText(value);
    return { variable: variable.name, value: shown, source: fromEnvironment ? "environment" : "default" };
  });
}

/** Opens the database at `url` and pings it (at most `timeoutMs`). Does not create or migrate anything. */
export async function checkDatabase(url: string, timeoutMs = 6000): Promise<Finding> {
  const shown = redactUrl(url);
  const file = sqliteFileOf(url); // a missing file is reported, not created
  if (file !== undefined && !existsSync(file)) {
    return {
      setting: "DATABASE_URL",
      status: "ok",
      message: `${shown} does not exist yet; the server creates it on first start.`,
    };
  }
  let timer: NodeJS.Timeout | undefined;
  try {
    const probe = (async () => {
      const store = await openStore(url);
      try {
        await store.ping();
      } finally {
        await store.close();
      }
    })();
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs);
    });
    await Promise.race([probe, timeout]);
    return { setting: "DATABASE_URL", status: "ok", message: `${shown} is reachable.` };
  } catch (error) {
    const reason = isAuthError(error) ? error.message : redactUrl(messageOf(error));
    return { setting: "DATABASE_URL", status: "fail", message: `${shown} is not reachable: ${reason}` };
  } finally {
    clearTimeout(timer);
  }
}
