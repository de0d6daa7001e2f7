import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { AuthError } from "../core/errors.ts";
import type { Store } from "../core/store/store.ts";

/**
 * Hides the credentials of every connection URL in `text` (a URL or a message holding some)
 * before it is shown: the user and password (`scheme://user:password@host`) and a
 * `password=` query parameter. A password may itself hold `@`, `/` or `?`, so everything up
 * to the last `@` of the URL goes (parsers such as WHATWG URL also split at the last one);
 * an `@` later in a URL without credentials hides its host too, which errs on the safe side.
 */
export function redactUrl(text: string): string {
  return text.replace(/\/\/\S*@/g, "//***@").replace(/([?&]password=)[^&#\s]*/gi, "$1***");
}

/**
 * Opens (without migrating) the store a `DATABASE_URL` names:
 * `sqlite:<path>`, `sqlite://<path>`, `file:<path>`, `sqlite::memory:`, a bare path ending
 * in `.db`/`.sqlite`/`.sqlite3`, or `postgres://…`/`postgresql://…`. Only the driver the URL
 * needs is loaded (better-sqlite3 or pg), and only now.
 * @throws AuthError("invalid_config") naming DATABASE_URL when the URL is not one of these.
 */
export async function openStore(databaseUrl: string): Promise<Store> {
  const url = databaseUrl.trim();
  if (/^postgres(?:ql)?:\/\//i.test(url)) {
    const { openPostgresStore } = await loadDriver("PostgreSQL", "pg", () => import("./postgres/driver.ts"));
    return openPostgresStore(url);
  }
  const path = sqlitePath(url);
  if (path === undefined) {
    throw new AuthError(
      "invalid_config",
      `DATABASE_URL must start with sqlite: or postgres:// (got "${describe(url)}"). ` +
        "Example: sqlite:./data/gatehouse.db",
    );
  }
  if (path === "") {
    throw new AuthError("invalid_config", "DATABASE_URL names SQLite but no file. Example: sqlite:./data/gatehouse.db");
  }
  const { openSqliteStore } = await loadDriver("SQLite", "better-sqlite3", () => import("./sqlite/driver.ts"));
  return openSqliteStore(path);
}

/** Loads a driver module; a missing database package becomes a sentence saying what to install. */
async function loadDriver<T>(database: string, npmPackage: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (cause) {
    throw new AuthError(
      "invalid_config",
      `DATABASE_URL names ${database}, but its driver could not be loaded (is the ${npmPackage} package installed?). ` +
        `Install ${npmPackage} or use another DATABASE_URL.`,
      { cause },
    );
  }
}

/** The SQLite file a URL names (":memory:" for in-memory), "" when it names none, undefined when it is not SQLite. */
function sqlitePath(url: string): string | undefined {
  if (/^file:\/\//i.test(url)) return fileURLToPath(url);
  const prefixed = /^(?:sqlite:(?:\/\/)?|file:)(.*)$/i.exec(url);
  if (prefixed) return prefixed[1]!;
  if (/^[^:]*\.(?:db|sqlite3?)$/i.test(url)) return url;
  return undefined;
}

/**
 * The SQLite file on disk a `DATABASE_URL` names, or undefined (not SQLite, in-memory, or no
 * file). Callers use it to tell whether a start will create the database.
 */
export function sqliteFileOf(databaseUrl: string): string | undefined {
  const path = sqlitePath(databaseUrl.trim());
  return path === undefined || path === "" || path === ":memory:" ? undefined : path;
}

/** The name of the key-encryption key file Gatehouse generates when KEY_ENCRYPTION_KEY is not set. */
export const KEY_FILE_NAME = "key-encryption-key";

/**
 * Where the generated key-encryption key is kept for a `DATABASE_URL`: next to a SQLite file,
 * else in `./data/` of the working directory (PostgreSQL). Undefined for an in-memory
 * database, whose key lives as long as the process.
 */
export function keyFileFor(databaseUrl: string): string | undefined {
  const url = databaseUrl.trim();
  if (sqlitePath(url) !== undefined) {
    const file = sqliteFileOf(url);
    return file === undefined ? undefined : join(dirname(resolve(file)), KEY_FILE_NAME);
  }
  return resolve("data", KEY_FILE_NAME);
}

/** What to echo of an unusable URL: its scheme only when it has one (the rest may hold a password). */
function describe(url: string): string {
  const scheme = /^([a-z][a-z0-9+.-]*:)/i.exec(url);
  if (scheme) return `${scheme[1]}…`;
  return url.length > 60 ? `${url.slice(0, 60)}…` : url;
}
