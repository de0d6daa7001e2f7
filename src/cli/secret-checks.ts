import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parseKeyEncryptionKey } from "../core/crypto/key-encryption-key.ts";
import { readKeyFile } from "../core/crypto/key-encryption-key-source.ts";
import { keyIdOf } from "../core/crypto/secret-box.ts";
import { censusOf } from "../core/crypto/stored-secret-sealing.ts";
import { isAuthError } from "../core/errors.ts";
import type { StoredSecret } from "../core/store/stored-secrets.ts";
import { looseModeOf } from "../core/private-files.ts";
import { keyFileFor, openStore, sqliteFileOf } from "../store/open-store.ts";
import type { Finding } from "./doctor-checks.ts";

/** What the secret checks need of the configuration. */
export interface SecretSettings {
  database: string;
  /** KEY_ENCRYPTION_KEY, when set (already validated). */
  keyEncryptionKey: string | undefined;
}

const KEY_SETTING = "KEY_ENCRYPTION_KEY";
const isPostgres = (database: string): boolean => /^postgres(?:ql)?:/i.test(database.trim());

/**
 * Where the key-encryption key comes from. A generated key file is a warning: it sits next
 * to the database (a copy of the directory holds both), and on PostgreSQL on one machine
 * only. `--strict` turns that into a failure, asking for KEY_ENCRYPTION_KEY.
 */
export function checkKeySource(settings: SecretSettings): Finding {
  const file = keyFileFor(settings.database);
  if (settings.keyEncryptionKey !== undefined) {
    return { setting: KEY_SETTING, status: "ok", message: "set; stored secrets are encrypted with it." };
  }
  if (file === undefined) {
    return { setting: KEY_SETTING, status: "ok", message: "not needed: the database is in memory." };
  }
  if (existsSync(file)) {
    try {
      readKeyFile(file);
    } catch (error) {
      return { setting: KEY_SETTING, status: "fail", message: (error as Error).message };
    }
  }
  const where = existsSync(file) ? `the generated file ${file}` : `${file}, generated on the first start`;
  const shared = isPostgres(settings.database)
    ? " On PostgreSQL every instance needs the same key: set it on each."
    : " A copy of that directory holds the database and its key together.";
  return {
    setting: KEY_SETTING,
    status: "warn",
    message:
      `not set: stored secrets are encrypted with the key in ${where}.${shared} ` +
      "Set KEY_ENCRYPTION_KEY from your secret store (--strict requires it).",
  };
}

/**
 * Group or other access to the data directory, the SQLite files or the key file: each is a
 * failure naming the chmod that fixes it. Nothing to report on Windows.
 */
export function checkFileModes(settings: SecretSettings): Finding[] {
  if (process.platform === "win32") return [];
  const directories = new Set<string>();
  const files: string[] = [];
  const database = sqliteFileOf(settings.database);
  if (database !== undefined) {
    directories.add(dirname(resolve(database)));
    files.push(database, `${database}-wal`, `${database}-shm`);
  }
  const keyFile = settings.keyEncryptionKey === undefined ? keyFileFor(settings.database) : undefined;
  if (keyFile !== undefined) {
    directories.add(dirname(keyFile));
    files.push(keyFile);
  }
  const findings: Finding[] = [];
  let checked = 0;
  for (const [path, wanted] of [
    ...[...directories].map((path) => [path, "700"] as const),
    ...files.map((path) => [path, "600"] as const),
  ]) {
    if (!existsSync(path)) continue;
    checked++;
    const loose = looseModeOf(path);
    if (loose === undefined) continue;
    findings.push({
      setting: path === keyFile ? KEY_SETTING : "DATABASE_URL",
      status: "fail",
      message: `${path} is open to other accounts (mode ${loose.toString(8)}); run: chmod ${wanted} ${path}`,
    });
  }
  if (findings.length === 0 && checked > 0) {
    findings.push({
      setting: "DATABASE_URL",
      status: "ok",
      message: "the data directory and its files are private to this account (0700/0600).",
    });
  }
  return findings;
}

/**
 * Reads the stored secrets (without creating or migrating anything): any still in plain
 * text, or encrypted with a key other than the configured one, is a failure.
 */
export async function checkStoredSecrets(settings: SecretSettings): Promise<Finding> {
  const sqlite = sqliteFileOf(settings.database);
  if (sqlite !== undefined && !existsSync(sqlite)) {
    return { setting: KEY_SETTING, status: "ok", message: "no secrets stored yet (no database)." };
  }
  const keyId = configuredKeyId(settings);
  let secrets: StoredSecret[];
  try {
    const store = await openStore(settings.database);
    try {
      secrets = await store.listStoredSecrets();
    } finally {
      await store.close();
    }
  } catch (error) {
    if (isMissingTable(error)) return { setting: KEY_SETTING, status: "ok", message: "no secrets stored yet." };
    const reason = isAuthError(error) ? error.message : String(error);
    return { setting: KEY_SETTING, status: "fail", message: `the stored secrets could not be read: ${reason}` };
  }

  const census = censusOf(secrets, keyId);
  if (census.plain.length > 0) {
    const where = [...new Set(census.plain.map((secret) => secret.column))].join(", ");
    return {
      setting: KEY_SETTING,
      status: "fail",
      message:
        `${census.plain.length} stored secret(s) are in plain text (${where}). Start Gatehouse once (it encrypts ` +
        "them at start-up) or run `gatehouse keys reencrypt`; then rotate the signing keys (`gatehouse keys " +
        "rotate`), since copies of the plain values may remain in backups.",
    };
  }
  const foreign = [...census.foreign.keys()];
  if (foreign.length > 0) {
    const configured = keyId === undefined ? "no key is configured and no key file exists" : `the key is ${keyId}`;
    return {
      setting: KEY_SETTING,
      status: "fail",
      message:
        `stored secrets are encrypted with key id ${foreign.join(", ")}, but ${configured}: Gatehouse will not ` +
        "start. Use the key this database was encrypted with.",
    };
  }
  return {
    setting: KEY_SETTING,
    status: "ok",
    message:
      census.sealed === 0
        ? "no secrets stored yet."
        : `${census.sealed} stored secret(s), all encrypted (key ${keyId}).`,
  };
}

/** The id of the key Gatehouse would use, when there is one yet. */
function configuredKeyId(settings: SecretSettings): string | undefined {
  try {
    if (settings.keyEncryptionKey !== undefined) {
      return keyIdOf(parseKeyEncryptionKey(settings.keyEncryptionKey, KEY_SETTING));
    }
    const file = keyFileFor(settings.database);
    return file !== undefined && existsSync(file) ? keyIdOf(readKeyFile(file)) : undefined;
  } catch {
    return undefined; // a malformed key is its own finding
  }
}

/** The schema does not exist yet (SQLite "no such table", PostgreSQL 42P01 undefined_table). */
function isMissingTable(error: unknown): boolean {
  const cause = isAuthError(error) ? (error.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  if (cause === undefined) return false;
  return cause.code === "42P01" || (typeof cause.message === "string" && cause.message.includes("no such table"));
}
