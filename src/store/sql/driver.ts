import type { ChangeListener, ChangeSubscription } from "../../core/store/change-feed.ts";
import type { CounterStore } from "../../core/store/counters.ts";
import type { Dialect } from "./dialect.ts";
import type { SqlValue, Statement } from "./statement.ts";

export type Awaitable<T> = T | Promise<T>;

/**
 * Runs statements. A driver may answer synchronously (SQLite) or not (PostgreSQL); callers
 * await either way. Every failure is AuthError("unavailable") with the driver's error as
 * its `cause`, so the store can still recognise, say, a unique violation.
 */
export interface SqlRunner {
  readonly dialect: Dialect;
  /** The first row, or undefined. */
  get<A extends readonly SqlValue[], R>(statement: Statement<A, R>, args: NoInfer<A>): Awaitable<R | undefined>;
  all<A extends readonly SqlValue[], R>(statement: Statement<A, R>, args: NoInfer<A>): Awaitable<R[]>;
  /** Runs a write; the number of rows it changed. */
  run<A extends readonly SqlValue[]>(statement: Statement<A, unknown>, args: NoInfer<A>): Awaitable<number>;
}

/** A runner that may also change the schema (several statements, no values). */
export interface SchemaRunner extends SqlRunner {
  exec(ddl: string): Awaitable<void>;
}

/** Called with each statement's text and values exactly as the database library receives them. */
export type StatementTrace = (sql: string, args: readonly SqlValue[]) => void;

/**
 * A database connection, as thin as it can be: how to run a statement, how to open a
 * transaction, and what the database offers beyond SQL. Everything else (statements,
 * tables, migrations, rows to records) is the SQL store's, written once for both.
 */
export interface SqlDriver {
  readonly dialect: Dialect;
  /** Runs each statement on its own, outside any transaction. */
  readonly db: SqlRunner;
  /**
   * Runs `work` in one transaction: COMMIT when it resolves, ROLLBACK (and rethrow) when it
   * throws. The runner refuses to work once the transaction has ended.
   */
  transaction<T>(work: (tx: SqlRunner) => Promise<T>): Promise<T>;
  /** Like transaction, and no other process changes the schema until it ends. */
  schemaTransaction<T>(work: (tx: SchemaRunner) => Promise<T>): Promise<T>;
  /**
   * Copies committed changes into the database file and empties the write-ahead log, so a
   * value just replaced (a secret that was in plain text) is no longer in either. A no-op
   * where the log is the server's own (PostgreSQL).
   */
  truncateWriteAheadLog(): Promise<void>;
  /** The throttle counters this database can hold (see Store.counters). */
  counters(): Promise<CounterStore>;
  /**
   * Hears changes other processes commit: PostgreSQL LISTENs on a dedicated connection,
   * SQLite notices commits by other connections to its file. Changes this process makes reach
   * listeners through the SQL store, not here. The store opens one and shares it.
   */
  openChangeFeed(listener: ChangeListener): ChangeSubscription;
  /** Idempotent. */
  close(): Promise<void>;
}
