import { dirname, resolve } from "node:path";
import Database from "better-sqlite3";
import type { Database as Connection, Statement as Prepared } from "better-sqlite3";
import { AuthError } from "../../core/errors.ts";
import { ensurePrivateDir, touchPrivateFile } from "../../core/private-files.ts";
import type { ChangeListener, ChangeSubscription } from "../../core/store/change-feed.ts";
import type { CounterStore } from "../../core/store/counters.ts";
import { memoryCounters } from "../../core/throttle/limiter-backend.ts";
import { SQLITE } from "../sql/dialect.ts";
import type { SchemaRunner, SqlDriver, SqlRunner, StatementTrace } from "../sql/driver.ts";
import { SqlStore } from "../sql/sql-store.ts";
import type { SqlValue, Statement } from "../sql/statement.ts";
import { toStoreError } from "../store-errors.ts";
import { AsyncMutex } from "./async-mutex.ts";
import { openSqliteChangeFeed } from "./change-feed.ts";

export interface SqliteDriverOptions {
  /** Sees every statement and its values as better-sqlite3 receives them (tests, debugging). */
  trace?: StatementTrace;
}

/**
 * The statements of one connection, each prepared on first use and kept (the tables exist
 * only after migrate, so not at open). Runs synchronously; failures become "unavailable".
 */
class PreparedStatements {
  readonly #db: Connection;
  readonly #trace: StatementTrace | undefined;
  readonly #prepared = new Map<Statement, Prepared<unknown[]>>();

  constructor(db: Connection, trace: StatementTrace | undefined) {
    this.#db = db;
    this.#trace = trace;
  }

  get<R>(statement: Statement<readonly SqlValue[], R>, args: readonly SqlValue[]): R | undefined {
    try {
      this.#trace?.(statement.text.sqlite, args);
      return this.#prepare(statement).get(...args) as R | undefined;
    } catch (error) {
      throw toStoreError(error);
    }
  }

  all<R>(statement: Statement<readonly SqlValue[], R>, args: readonly SqlValue[]): R[] {
    try {
      this.#trace?.(statement.text.sqlite, args);
      return this.#prepare(statement).all(...args) as R[];
    } catch (error) {
      throw toStoreError(error);
    }
  }

  run(statement: Statement, args: readonly SqlValue[]): number {
    try {
      this.#trace?.(statement.text.sqlite, args);
      return this.#prepare(statement).run(...args).changes;
    } catch (error) {
      throw toStoreError(error);
    }
  }

  exec(sql: string): void {
    try {
      this.#db.exec(sql);
    } catch (error) {
      throw toStoreError(error);
    }
  }

  #prepare(statement: Statement): Prepared<unknown[]> {
    let prepared = this.#prepared.get(statement);
    if (prepared === undefined) {
      prepared = this.#db.prepare<unknown[]>(statement.text.sqlite);
      this.#prepared.set(statement, prepared);
    }
    return prepared;
  }
}

/** Statements outside a transaction: at once when nothing holds the lock, else queued behind it. */
class DirectRunner implements SqlRunner {
  readonly dialect = SQLITE;
  readonly #statements: PreparedStatements;
  readonly #lock: AsyncMutex;

  constructor(statements: PreparedStatements, lock: AsyncMutex) {
    this.#statements = statements;
    this.#lock = lock;
  }

  // A free lock means no transaction is open, and a synchronous statement cannot interleave.
  get<R>(
    statement: Statement<readonly SqlValue[], R>,
    args: readonly SqlValue[],
  ): R | undefined | Promise<R | undefined> {
    if (this.#lock.idle) return this.#statements.get(statement, args);
    return this.#lock.run(() => this.#statements.get(statement, args));
  }

  all<R>(statement: Statement<readonly SqlValue[], R>, args: readonly SqlValue[]): R[] | Promise<R[]> {
    if (this.#lock.idle) return this.#statements.all(statement, args);
    return this.#lock.run(() => this.#statements.all(statement, args));
  }

  run(statement: Statement, args: readonly SqlValue[]): number | Promise<number> {
    if (this.#lock.idle) return this.#statements.run(statement, args);
    return this.#lock.run(() => this.#statements.run(statement, args));
  }
}

/** Statements of the open transaction, which holds the lock: run directly on the connection. */
class TransactionRunner implements SchemaRunner {
  readonly dialect = SQLITE;
  readonly #statements: PreparedStatements;
  #ended = false;

  constructor(statements: PreparedStatements) {
    this.#statements = statements;
  }

  end(): void {
    this.#ended = true;
  }

  get<R>(statement: Statement<readonly SqlValue[], R>, args: readonly SqlValue[]): R | undefined {
    this.#assertOpen();
    return this.#statements.get(statement, args);
  }

  all<R>(statement: Statement<readonly SqlValue[], R>, args: readonly SqlValue[]): R[] {
    this.#assertOpen();
    return this.#statements.all(statement, args);
  }

  run(statement: Statement, args: readonly SqlValue[]): number {
    this.#assertOpen();
    return this.#statements.run(statement, args);
  }

  exec(sql: string): void {
    this.#assertOpen();
    this.#statements.exec(sql);
  }

  #assertOpen(): void {
    if (this.#ended) {
      throw new AuthError(
        "internal_error",
        "A store transaction was used after it ended. Use the tx argument only inside its transaction callback.",
      );
    }
  }
}

/**
 * SQLite through better-sqlite3: one connection in WAL mode.
 *
 * better-sqlite3 is synchronous and a store transaction is async, so every statement, inside
 * a transaction or not, goes through one FIFO lock: nothing can slip a statement into another
 * caller's open transaction. Transactions BEGIN IMMEDIATE, taking the database's write lock
 * at once, so a row read inside one is as good as locked (no FOR UPDATE needed).
 *
 * Inside `transaction(work)` use only the runner it gets: the driver's own would wait for the
 * lock the transaction holds, forever.
 */
export class SqliteDriver implements SqlDriver {
  readonly dialect = SQLITE;
  readonly db: SqlRunner;
  readonly #connection: Connection;
  readonly #statements: PreparedStatements;
  readonly #lock = new AsyncMutex();
  readonly #control: { begin: Prepared<[]>; commit: Prepared<[]>; rollback: Prepared<[]> };
  readonly #counters = Promise.resolve(memoryCounters());

  private constructor(connection: Connection, options: SqliteDriverOptions) {
    this.#connection = connection;
    this.#statements = new PreparedStatements(connection, options.trace);
    this.db = new DirectRunner(this.#statements, this.#lock);
    this.#control = {
      begin: connection.prepare("BEGIN IMMEDIATE"),
      commit: connection.prepare("COMMIT"),
      rollback: connection.prepare("ROLLBACK"),
    };
  }

  /**
   * Opens (creating if needed, with its parent directories) the SQLite file at `path`;
   * `:memory:` gives a private in-memory database. A directory it creates is 0700 and a new
   * database file 0600; SQLite gives the -wal and -shm files it creates later the database
   * file's mode. Deleted and replaced content is overwritten with zeros where that costs no
   * extra I/O (secure_delete=FAST), so a replaced value does not linger in a page's free space.
   * @throws AuthError("unavailable") when the file cannot be opened or is not a database.
   */
  static open(path: string, options: SqliteDriverOptions = {}): SqliteDriver {
    const inMemory = path === ":memory:" || path === "";
    let connection: Connection | undefined;
    try {
      if (!inMemory) {
        ensurePrivateDir(dirname(resolve(path)));
        touchPrivateFile(path);
      }
      connection = new Database(path);
      connection.pragma("busy_timeout = 5000");
      connection.pragma("journal_mode = WAL");
      connection.pragma("synchronous = NORMAL");
      connection.pragma("foreign_keys = ON");
      connection.pragma("secure_delete = FAST");
      return new SqliteDriver(connection, options);
    } catch (cause) {
      connection?.close();
      throw new AuthError(
        "unavailable",
        `Could not open the SQLite database at ${path}. ` +
          "Check that its directory is writable and the file is a SQLite database.",
        { cause },
      );
    }
  }

  transaction<T>(work: (tx: SqlRunner) => Promise<T>): Promise<T> {
    return this.#transaction(work);
  }

  /** BEGIN IMMEDIATE already keeps every other connection, in any process, from writing. */
  schemaTransaction<T>(work: (tx: SchemaRunner) => Promise<T>): Promise<T> {
    return this.#transaction(work);
  }

  async truncateWriteAheadLog(): Promise<void> {
    await this.#lock.run(() => {
      try {
        this.#connection.pragma("wal_checkpoint(TRUNCATE)");
      } catch (error) {
        throw toStoreError(error);
      }
    });
  }

  /** Notices commits by other connections to the file (see openSqliteChangeFeed). */
  openChangeFeed(listener: ChangeListener): ChangeSubscription {
    const dataVersion = this.#connection.prepare<[], number>("PRAGMA data_version").pluck();
    return openSqliteChangeFeed(() => {
      if (!this.#connection.open) throw new AuthError("unavailable", "The SQLite database is closed.");
      return dataVersion.get()!;
    }, listener);
  }

  /** One process per SQLite file is the supported setup, so counters stay in memory. */
  counters(): Promise<CounterStore> {
    return this.#counters;
  }

  /** Closes the connection once queued work has finished. Idempotent. */
  async close(): Promise<void> {
    await this.#lock.run(() => {
      if (this.#connection.open) this.#connection.close();
    });
  }

  #transaction<T>(work: (tx: TransactionRunner) => Promise<T>): Promise<T> {
    return this.#lock.run(async () => {
      try {
        this.#control.begin.run();
      } catch (error) {
        throw toStoreError(error);
      }
      const tx = new TransactionRunner(this.#statements);
      let result: T;
      try {
        result = await work(tx);
      } catch (error) {
        tx.end();
        this.#rollback();
        throw error;
      }
      tx.end();
      try {
        this.#control.commit.run();
      } catch (error) {
        this.#rollback();
        throw toStoreError(error);
      }
      return result;
    });
  }

  #rollback(): void {
    // SQLite may already have rolled back by itself (e.g. disk full); then there is nothing to undo.
    try {
      if (this.#connection.open && this.#connection.inTransaction) this.#control.rollback.run();
    } catch {
      // The caller is already reporting the failure that led here.
    }
  }
}

/** A store on the SQLite file at `path` (or `:memory:`). Call `migrate()` before anything else. */
export function openSqliteStore(path: string, options: SqliteDriverOptions = {}): SqlStore {
  return new SqlStore(SqliteDriver.open(path, options));
}
