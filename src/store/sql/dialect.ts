/**
 * What differs between the two SQL databases Gatehouse speaks, and nothing else: how a
 * statement's placeholders and row locks are written, a column type name, and how each
 * reports a unique violation. Statements and tables are written once, in SQLite's spelling
 * with `?` placeholders, and rendered here.
 */
export type DialectName = "sqlite" | "postgres";

/** A UNIQUE constraint whose violation means something to the caller (e.g. "username taken"). */
export interface UniqueKey {
  /** Constraint name, as PostgreSQL reports it. */
  readonly constraint: string;
  /** Table and columns, as SQLite reports them ("UNIQUE constraint failed: users.username_key"). */
  readonly table: string;
  readonly columns: readonly string[];
}

/**
 * How a read locks the rows it returns until its transaction ends: `true` waits for rows
 * another transaction holds; "skip locked" passes over them (a queue's claim: two workers
 * never wait on, or take, the same row).
 */
export type RowLock = boolean | "skip locked";

export interface Dialect {
  readonly name: DialectName;
  /** Column type for times in milliseconds since the epoch (64-bit integers). */
  readonly millisType: string;
  /** The statement as this database runs it; `forUpdate` marks a read that locks its rows. */
  render(sql: string, forUpdate: RowLock): string;
  isUniqueViolation(error: unknown, key: UniqueKey): boolean;
}

/**
 * Replaces each `?` placeholder with `$1`, `$2`, … in order. Quoted text ('…', "…") is left
 * alone, so a literal question mark inside quotes is not a placeholder.
 */
export function numberPlaceholders(sql: string): { text: string; count: number } {
  let text = "";
  let count = 0;
  let quote: string | undefined;
  for (const char of sql) {
    if (quote !== undefined) {
      if (char === quote) quote = undefined;
    } else if (char === "'" || char === '"') {
      quote = char;
    } else if (char === "?") {
      text += `$${++count}`;
      continue;
    }
    text += char;
  }
  return { text, count };
}

const errorField = (error: unknown, field: string): unknown =>
  typeof error === "object" && error !== null ? (error as Record<string, unknown>)[field] : undefined;

export const SQLITE: Dialect = {
  name: "sqlite",
  millisType: "INTEGER",
  // Every SQLite transaction begins IMMEDIATE and so already holds the database's write lock.
  render: (sql) => sql,
  isUniqueViolation: (error, key) => {
    if (errorField(error, "code") !== "SQLITE_CONSTRAINT_UNIQUE") return false;
    const message = errorField(error, "message");
    const columns = key.columns.map((column) => `${key.table}.${column}`).join(", ");
    return typeof message === "string" && message.endsWith(`: ${columns}`);
  },
};

const lockSuffix = (lock: RowLock): string => (lock === "skip locked" ? " SKIP LOCKED" : "");

export const POSTGRES: Dialect = {
  name: "postgres",
  millisType: "BIGINT",
  render: (sql, forUpdate) =>
    `${numberPlaceholders(sql).text}${forUpdate ? ` FOR UPDATE${lockSuffix(forUpdate)}` : ""}`,
  // 23505: unique_violation (PostgreSQL error codes, appendix A).
  isUniqueViolation: (error, key) =>
    errorField(error, "code") === "23505" && errorField(error, "constraint") === key.constraint,
};
