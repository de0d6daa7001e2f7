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
 * A write whose changed rows go on the change feed: it returns the `returning` columns of each
 * changed row, and PostgreSQL also sends `payload` (an SQL text expression over those columns)
 * with pg_notify, which the database delivers when the transaction commits. SQLite's feed is
 * in-process: the store publishes the returned rows after commit.
 */
export interface NotifyRows {
  readonly returning: string;
  readonly payload: string;
}

export type RowLock = boolean | "skip locked";

export interface RenderOptions {
  /**
   * A read that locks the rows it returns until the transaction ends: `true` waits for rows
   * another transaction holds; "skip locked" passes over them (a queue's claim: two workers
   * never wait on, or take, the same row).
   */
  forUpdate?: RowLock;
  notify?: NotifyRows;
}

/**
 * The channel a Gatehouse database's changes go to: one per schema, so instances on different
 * schemas of one server (tests, several apps) do not hear each other. Channel names are
 * identifiers, at most 63 bytes.
 */
export const CHANGE_CHANNEL_SQL = "left('gatehouse ' || current_schema(), 63)";

export interface Dialect {
  readonly name: DialectName;
  /** Column type for times in milliseconds since the epoch (64-bit integers). */
  readonly millisType: string;
  /** The statement as this database runs it. */
  render(sql: string, options?: RenderOptions): string;
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
  render: (sql, options = {}) => (options.notify ? `${sql} RETURNING ${options.notify.returning}` : sql),
  isUniqueViolation: (error, key) => {
    if (errorField(error, "code") !== "SQLITE_CONSTRAINT_UNIQUE") return false;
    const message = errorField(error, "message");
    const columns = key.columns.map((column) => `${key.table}.${column}`).join(", ");
    return typeof message === "string" && message.endsWith(`: ${columns}`);
  },
};

export const POSTGRES: Dialect = {
  name: "postgres",
  millisType: "BIGINT",
  render: (sql, options = {}) => {
    const text = numberPlaceholders(sql).text;
    const { notify, forUpdate } = options;
    if (notify) {
      const { returning, payload } = notify;
      const notified = `pg_notify(${CHANGE_CHANNEL_SQL}, ${payload}) AS notified`;
      return `WITH changed AS (${text} RETURNING ${returning}) SELECT ${returning}, ${notified} FROM changed`;
    }
    if (!forUpdate) return text;
    return forUpdate === "skip locked" ? `${text} FOR UPDATE SKIP LOCKED` : `${text} FOR UPDATE`;
  },
  // 23505: unique_violation (PostgreSQL error codes, appendix A).
  isUniqueViolation: (error, key) =>
    errorField(error, "code") === "23505" && errorField(error, "constraint") === key.constraint,
};
