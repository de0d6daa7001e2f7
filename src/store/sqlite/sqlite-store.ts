import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import Database from "better-sqlite3";
import type { Database as Connection, Statement } from "better-sqlite3";
import { AuthError } from "../../core/errors.ts";
import type { RefreshTokenRecord, Store, TransactionOps } from "../store.ts";
import { guardDriver, toStoreError } from "../store-errors.ts";
import { AsyncMutex } from "./async-mutex.ts";
import { migrate } from "./schema.ts";
import { SqliteOps } from "./sqlite-ops.ts";
import { prepareStatements, type Statements } from "./statements.ts";

/** Statements that need no schema, prepared when the file is opened. */
interface ControlStatements {
  begin: Statement<[]>;
  commit: Statement<[]>;
  rollback: Statement<[]>;
  ping: Statement<[]>;
}

/**
 * The embedded store: one better-sqlite3 connection in WAL mode.
 *
 * better-sqlite3 is synchronous and a store transaction is async, so every operation,
 * inside a transaction or not, goes through one FIFO lock: nothing can slip a statement
 * into another caller's open transaction. When the lock is free a plain query runs at
 * once (it is synchronous, so it cannot interleave with anything).
 *
 * Inside `transaction(work)` use only `tx`: calling the store itself there would wait for
 * the lock the transaction holds, forever.
 */
export class SqliteStore extends SqliteOps implements Store {
  readonly kind = "sqlite" as const;
  readonly #db: Connection;
  readonly #lock = new AsyncMutex();
  readonly #control: ControlStatements;
  #statements: Statements | undefined;

  private constructor(db: Connection) {
    super();
    this.#db = db;
    this.#control = {
      begin: db.prepare("BEGIN IMMEDIATE"),
      commit: db.prepare("COMMIT"),
      rollback: db.prepare("ROLLBACK"),
      ping: db.prepare("SELECT 1"),
    };
  }

  /**
   * Opens (creating if needed, with its parent directories) the SQLite file at `path`;
   * `:memory:` gives a private in-memory database. Call `migrate()` before other methods.
   * @throws AuthError("unavailable") when the file cannot be opened or is not a database.
   */
  static open(path: string): SqliteStore {
    const inMemory = path === ":memory:" || path === "";
    let db: Connection | undefined;
    try {
      if (!inMemory) mkdirSync(dirname(resolve(path)), { recursive: true });
      db = new Database(path);
      db.pragma("busy_timeout = 5000");
      db.pragma("journal_mode = WAL");
      db.pragma("synchronous = NORMAL");
      db.pragma("foreign_keys = ON");
      return new SqliteStore(db);
    } catch (cause) {
      db?.close();
      throw new AuthError(
        "unavailable",
        `Could not open the SQLite database at ${path}. Check that its directory is writable and the file is a SQLite database.`,
        { cause },
      );
    }
  }

  async migrate(): Promise<void> {
    await this.#lock.run(() => {
      guardDriver(() => migrate(this.#db));
    });
  }

  transaction<T>(work: (tx: TransactionOps) => Promise<T>): Promise<T> {
    return this.#lock.run(async () => {
      const statements = this.#exec((s) => {
        this.#control.begin.run();
        return s;
      });
      const tx = new SqliteTransaction(statements);
      let result: T;
      try {
        result = await work(tx);
      } catch (error) {
        tx.finish();
        this.#rollback();
        throw error;
      }
      tx.finish();
      try {
        this.#control.commit.run();
      } catch (error) {
        this.#rollback();
        throw toStoreError(error);
      }
      return result;
    });
  }

  async pruneSessions(before: number): Promise<number> {
    // Refresh tokens go with their session (ON DELETE CASCADE).
    return this.run((s) => s.pruneSessions.run(before, before, before).changes);
  }

  async ping(): Promise<void> {
    return this.run(() => {
      this.#control.ping.get();
    });
  }

  /** Closes the connection once queued work has finished. Idempotent. */
  async close(): Promise<void> {
    await this.#lock.run(() => {
      if (this.#db.open) this.#db.close();
    });
  }

  protected run<T>(query: (statements: Statements) => T): T | Promise<T> {
    // Free lock: a synchronous query cannot interleave with anything, so skip the queue.
    if (this.#lock.idle) return this.#exec(query);
    return this.#lock.run(() => this.#exec(query));
  }

  /** Runs a query with the (lazily prepared) statements; driver failures become "unavailable". */
  #exec<T>(query: (statements: Statements) => T): T {
    return guardDriver(() => {
      // Prepared on first use rather than at open: the tables exist only after migrate().
      this.#statements ??= prepareStatements(this.#db);
      return query(this.#statements);
    });
  }

  #rollback(): void {
    // SQLite may already have rolled back by itself (e.g. disk full); then there is nothing to undo.
    try {
      if (this.#db.open && this.#db.inTransaction) this.#control.rollback.run();
    } catch {
      // The caller is already reporting the failure that led here.
    }
  }
}

/** The `tx` handed to transaction work: runs directly on the connection the transaction holds. */
class SqliteTransaction extends SqliteOps implements TransactionOps {
  readonly #statements: Statements;
  #finished = false;

  constructor(statements: Statements) {
    super();
    this.#statements = statements;
  }

  /** SQLite's write lock (BEGIN IMMEDIATE) already serializes writers, so this is a plain read. */
  lockRefreshToken(hash: string): Promise<RefreshTokenRecord | null> {
    return this.findRefreshToken(hash);
  }

  finish(): void {
    this.#finished = true;
  }

  protected run<T>(query: (statements: Statements) => T): T {
    if (this.#finished) {
      throw new AuthError(
        "internal_error",
        "A store transaction was used after it ended. Use the tx argument only inside its transaction callback.",
      );
    }
    return guardDriver(() => query(this.#statements));
  }
}
