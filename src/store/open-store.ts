import { fileURLToPath } from "node:url";
import { AuthError } from "../core/errors.ts";
import { SqliteStore } from "./sqlite/sqlite-store.ts";
import type { Store } from "./store.ts";

/** Hides the credentials of a connection URL (`scheme://user:password@host`) before it appears in any message. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, "//***@");
}

/**
 * Opens (without migrating) the store a `DATABASE_URL` names:
 * `sqlite:<path>`, `sqlite://<path>`, `file:<path>`, `sqlite::memory:`, a bare path ending
 * in `.db`/`.sqlite`/`.sqlite3`, or `postgres://…`/`postgresql://…`.
 * @throws AuthError("invalid_config") naming DATABASE_URL when the URL is not one of these.
 */
export async function openStore(databaseUrl: string): Promise<Store> {
  const url = databaseUrl.trim();
  if (/^postgres(?:ql)?:\/\//i.test(url)) return openPostgres(url);
  const path = sqlitePath(url);
  if (path === undefined) {
    throw new AuthError(
      "invalid_config",
      `DATABASE_URL must start with sqlite: or postgres:// (got "${describe(url)}"). Example: sqlite:./data/gatehouse.db`,
    );
  }
  if (path === "") {
    throw new AuthError("invalid_config", "DATABASE_URL names SQLite but no file. Example: sqlite:./data/gatehouse.db");
  }
  return SqliteStore.open(path);
}

/** The SQLite file a URL names (":memory:" for in-memory), "" when it names none, undefined when it is not SQLite. */
function sqlitePath(url: string): string | undefined {
  if (/^file:\/\//i.test(url)) return fileURLToPath(url);
  const prefixed = /^(?:sqlite:(?:\/\/)?|file:)(.*)$/i.exec(url);
  if (prefixed) return prefixed[1]!;
  if (/^[^:]*\.(?:db|sqlite3?)$/i.test(url)) return url;
  return undefined;
}

/** The PostgreSQL store is loaded only when asked for, so SQLite users never load `pg`. */
async function openPostgres(url: string): Promise<Store> {
  let postgres: typeof import("./postgres/postgres-store.ts");
  try {
    postgres = await import("./postgres/postgres-store.ts");
  } catch (cause) {
    throw new AuthError(
      "invalid_config",
      "DATABASE_URL names PostgreSQL, but the PostgreSQL store could not be loaded (is the pg package installed?). Use sqlite:<path> or install pg.",
      { cause },
    );
  }
  return postgres.PostgresStore.open(url);
}

/**
 * The SQLite file on disk a `DATABASE_URL` names, or undefined (not SQLite, in-memory, or no
 * file). Callers use it to tell whether a start will create the database.
 */
export function sqliteFileOf(databaseUrl: string): string | undefined {
  const path = sqlitePath(databaseUrl.trim());
  return path === undefined || path === "" || path === ":memory:" ? undefined : path;
}

/** What to echo of an unusable URL: its scheme only when it has one (the rest may hold a password). */
function describe(url: string): string {
  const scheme = /^([a-z][a-z0-9+.-]*:)/i.exec(url);
  if (scheme) return `${scheme[1]}…`;
  return url.length > 60 ? `${url.slice(0, 60)}…` : url;
}
