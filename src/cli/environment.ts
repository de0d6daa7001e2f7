import { existsSync, readFileSync } from "node:fs";
import { parseEnv } from "node:util";
import { readEnvConfig, type ServerSettings } from "../server/env-config.ts";

/** Options every command accepts (declared once on the program, see program.ts). */
export interface GlobalOptions {
  database?: string;
}

/**
 * The settings the server would see: `.env` in the working directory, overridden by the
 * real environment (as `process.loadEnvFile` does), overridden by `--database`. Nothing is
 * written to `process.env`.
 */
export function cliEnvironment(
  global: GlobalOptions,
  env: NodeJS.ProcessEnv = process.env,
): Record<string, string | undefined> {
  const fromFile = existsSync(".env") ? parseEnv(readFileSync(".env", "utf8")) : {};
  const merged: Record<string, string | undefined> = { ...fromFile, ...env };
  if (global.database !== undefined) merged["DATABASE_URL"] = global.database;
  return merged;
}

/** Validated settings (AuthError "invalid_config" naming the variable on a bad one). */
export function cliSettings(global: GlobalOptions): ServerSettings {
  return readEnvConfig(cliEnvironment(global));
}

/** The database URL in force, defaulted like the server does. */
export function databaseUrl(settings: ServerSettings): string {
  return settings.config.database;
}
