import { existsSync } from "node:fs";
import { isAuthError } from "../core/errors.ts";
import { assertStrongSecret } from "../core/keys/secret-strength.ts";
import type { ServerSettings } from "../server/env-config.ts";
import { readEnvConfig } from "../server/env-config.ts";
import { openStore, redactUrl, sqliteFileOf } from "../store/open-store.ts";
import { DEFAULT_DATABASE } from "../core/config.ts";

/** fail: unsafe or broken (exit 1); warn: worth a look, a legitimate choice; ok: checked and fine. */
export type FindingStatus = "ok" | "warn" | "fail";

export interface Finding {
  /** The setting (environment variable) the finding is about. */
  setting: string;
  status: FindingStatus;
  message: string;
}

/** NIST SP 800-63B-4 asks 15 characters for passwords that are the only factor. */
const SAFE_PASSWORD_MIN_LENGTH = 15;
const LOCAL_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** Checks the settings without touching the database. Never echoes a secret. */
export function checkSettings(env: Record<string, string | undefined>): { settings: ServerSettings | undefined; findings: Finding[] } {
  let settings: ServerSettings;
  try {
    settings = readEnvConfig(env);
  } catch (error) {
    return { settings: undefined, findings: [{ setting: "configuration", status: "fail", message: messageOf(error) }] };
  }
  const findings: Finding[] = [];
  const { options } = settings;

  if (options.cookie?.secure === false) {
    findings.push({ setting: "COOKIE_SECURE", status: "fail", message: "COOKIE_SECURE=false sends the refresh cookie over plain HTTP; use it only for local development." });
  } else findings.push({ setting: "COOKIE_SECURE", status: "ok", message: "refresh cookie is Secure." });

  if (options.accessTokenSecret !== undefined) {
    try {
      assertStrongSecret(options.accessTokenSecret, "ACCESS_TOKEN_SECRET");
      findings.push({ setting: "ACCESS_TOKEN_SECRET", status: "ok", message: "HS256 secret looks strong (remember every verifier holds it)." });
    } catch (error) {
      findings.push({ setting: "ACCESS_TOKEN_SECRET", status: "fail", message: messageOf(error) });
    }
  } else findings.push({ setting: "JWT_ALGORITHM", status: "ok", message: `asymmetric signing (${options.signingAlgorithm ?? "EdDSA"}), keys in the database.` });

  if (options.registrationOpen === false) findings.push({ setting: "REGISTRATION", status: "ok", message: "registration is closed." });
  else findings.push({ setting: "REGISTRATION", status: "warn", message: "REGISTRATION is open: anyone who can reach the server can create an account. Set REGISTRATION=closed and add users with `gatehouse users add` if that is not intended." });

  const plainOrigins = (options.allowedOrigins ?? []).filter((origin) => {
    const url = new URL(origin);
    return url.protocol === "http:" && !LOCAL_HOSTS.has(url.hostname);
  });
  if (plainOrigins.length > 0) {
    findings.push({ setting: "ALLOWED_ORIGINS", status: "fail", message: `ALLOWED_ORIGINS has plain-http origins (${plainOrigins.join(", ")}); use https:// outside localhost.` });
  } else findings.push({ setting: "ALLOWED_ORIGINS", status: "ok", message: "allowed origins use https (or localhost)." });

  const minLength = options.password?.minLength ?? SAFE_PASSWORD_MIN_LENGTH;
  if (minLength < SAFE_PASSWORD_MIN_LENGTH) {
    findings.push({ setting: "PASSWORD_MIN_LENGTH", status: "fail", message: `PASSWORD_MIN_LENGTH=${minLength} is short; single-factor passwords should be at least ${SAFE_PASSWORD_MIN_LENGTH} characters.` });
  } else findings.push({ setting: "PASSWORD_MIN_LENGTH", status: "ok", message: `passwords need at least ${minLength} characters.` });

  return { settings, findings };
}

/** Opens the configured database and pings it (at most `timeoutMs`). Does not create or migrate anything. */
export async function checkDatabase(settings: ServerSettings, timeoutMs = 6000): Promise<Finding> {
  const url = settings.options.database ?? DEFAULT_DATABASE;
  const shown = redactUrl(url);
  const file = sqliteFileOf(url); // a missing file is reported, not created
  if (file !== undefined && !existsSync(file)) {
    return { setting: "DATABASE_URL", status: "ok", message: `${shown} does not exist yet; the server creates it on first start.` };
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
