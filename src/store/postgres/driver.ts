import pg from "pg";
import type { PoolClient, QueryResult } from "pg";
import { AuthError } from "../../core/errors.ts";
import type { ChangeListener, ChangeSubscription } from "../../core/store/change-feed.ts";
import type { CounterStore } from "../../core/store/counters.ts";
import { POSTGRES } from "../sql/dialect.ts";
import type { SchemaRunner, SqlDriver, SqlRunner, StatementTrace } from "../sql/driver.ts";
import { SqlStore } from "../sql/sql-store.ts";
import type { SqlValue, Statement } from "../sql/statement.ts";
import { toStoreError } from "../store-errors.ts";
import { openPostgresChangeFeed } from "./change-feed.ts";
import { openPostgresCounters } from "./counters.ts";

/** Tuning for {@link PostgresDriver.open}; the URL itself may carry the usual libpq parameters. */
export interface PostgresDriverOptions {
  /** Schema to use instead of the connection's default search_path (tests use a fresh one per run). */
  schema?: string;
  /** Most connections held open at once (default 10). */
  maxConnections?: number;
  /** How long to wait for a connection before answering "unavailable" (default 5000 ms). */
  connectTimeoutMs?: number;
  /** Sees every statement and its values as pg receives them (tests, debugging). */
  trace?: StatementTrace;
}

const INT8_OID = 20;

/**
 * Times are BIGINT milliseconds, which pg returns as strings by default; they fit a
 * double exactly (until the year 285,616), so parse them as numbers.
 */
const types = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === INT8_OID && format !== "binary"
      ? (text: string) => Number(text)
      : pg.types.getTypeParser(oid, format as "text")) as typeof pg.types.getTypeParser,
};

/** Any constant shared by every Gatehouse instance: the advisory lock that serializes migrations. */
const MIGRATION_LOCK_KEY = 0x6761_7465; // "gate"

type Send = (config: pg.QueryConfig<SqlValue[]>) => Promise<QueryResult>;

/**
 * Sends statements by name, so pg prepares each once per connection and later only binds
 * values. `send` is the pool (outside a transaction) or the transaction's one client.
 */
class Runner implements SchemaRunner {
  readonly dialect = POSTGRES;
  readonly #send: Send;
  readonly #trace: StatementTrace | undefined;
  #ended = false;

  constructor(send: Send, trace: StatementTrace | undefined) {
    this.#send = send;
    this.#trace = trace;
  }

  /** Refuses further statements: the transaction this runner belonged to is over. */
  end(): void {
    this.#ended = true;
  }

  async get<R>(statement: Statement<readonly SqlValue[], R>, args: readonly SqlValue[]): Promise<R | undefined> {
    return (await this.#query(statement, args)).rows[0] as R | undefined;
  }

  async all<R>(statement: Statement<readonly SqlValue[], R>, args: readonly SqlValue[]): Promise<R[]> {
    return (await this.#query(statement, args)).rows as R[];
  }

  async run(statement: Statement, args: readonly SqlValue[]): Promise<number> {
    return (await this.#query(statement, args)).rowCount ?? 0;
  }

  async exec(sql: string): Promise<void> {
    this.#assertOpen();
    try {
      await this.#send({ text: sql });
    } catch (error) {
      throw toStoreError(error);
    }
  }

  async #query(statement: Statement, args: readonly SqlValue[]): Promise<QueryResult> {
    this.#assertOpen();
    const text = statement.text.postgres;
    this.#trace?.(text, args);
    try {
      return await this.#send({ name: statement.name, text, values: args as SqlValue[] });
    } catch (error) {
      throw toStoreError(error);
    }
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
 * PostgreSQL through a `pg` Pool, for one instance or many sharing the database. A
 * transaction holds one pooled client from BEGIN to COMMIT; a locking read takes row locks
 * (SELECT … FOR UPDATE), so two instances rotating the same token take turns.
 */
export class PostgresDriver implements SqlDriver {
  readonly dialect = POSTGRES;
  readonly db: SqlRunner;
  readonly #pool: pg.Pool;
  /** How to open one more connection like the pool's (the change feed's own). */
  readonly #connection: pg.ClientConfig;
  readonly #schema: string | undefined;
  readonly #trace: StatementTrace | undefined;
  #counters: Promise<CounterStore> | undefined;
  #closed = false;

  private constructor(pool: pg.Pool, connection: pg.ClientConfig, options: PostgresDriverOptions) {
    this.#pool = pool;
    this.#connection = connection;
    this.#schema = options.schema;
    this.#trace = options.trace;
    this.db = new Runner((config) => pool.query(config), this.#trace);
    // An idle client losing its connection emits here; without a listener the process
    // would crash. The next query reports the outage as "unavailable" instead.
    pool.on("error", () => undefined);
  }

  /**
   * Creates the pool for `url` (`postgres://user:password@host:port/db?…`). Connects lazily:
   * the first statement finds out whether the database is reachable.
   * @throws AuthError("invalid_config") for a schema name that is not a plain identifier.
   */
  static open(url: string, options: PostgresDriverOptions = {}): PostgresDriver {
    const { schema, maxConnections = 10, connectTimeoutMs = 5000 } = options;
    if (schema !== undefined && !/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(schema)) {
      throw new AuthError(
        "invalid_config",
        "The PostgreSQL schema name must be a plain identifier (letters, digits, underscore).",
      );
    }
    const connection: pg.ClientConfig = {
      connectionString: url,
      connectionTimeoutMillis: connectTimeoutMs,
      types,
      ...(schema === undefined ? {} : { options: `-c search_path=${schema}` }),
    };
    const pool = new pg.Pool({ ...connection, max: maxConnections });
    return new PostgresDriver(pool, connection, options);
  }

  transaction<T>(work: (tx: SqlRunner) => Promise<T>): Promise<T> {
    return this.#transaction(work, false);
  }

  /** A transaction-scoped advisory lock makes instances that start together take turns. */
  schemaTransaction<T>(work: (tx: SchemaRunner) => Promise<T>): Promise<T> {
    return this.#transaction(work, true);
  }

  /** The server keeps its own log (and old row versions until VACUUM): nothing to do from here. */
  async truncateWriteAheadLog(): Promise<void> {}

  /** Counters in a table of this database: every instance on it shares the limits. */
  counters(): Promise<CounterStore> {
    this.#counters ??= openPostgresCounters(this.#pool, this.#schema).catch((error: unknown) => {
      this.#counters = undefined; // try again next time
      throw error;
    });
    return this.#counters;
  }

  /** LISTEN/NOTIFY on a connection of its own, outside the pool. */
  openChangeFeed(listener: ChangeListener): ChangeSubscription {
    return openPostgresChangeFeed(listener, {
      connection: this.#connection,
      applicationName: this.#schema === undefined ? "gatehouse feed" : `gatehouse feed ${this.#schema}`,
    });
  }

  /** Ends the pool once checked-out clients are released. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.end();
  }

  async #transaction<T>(work: (tx: Runner) => Promise<T>, serializeMigrations: boolean): Promise<T> {
    const client = await this.#connect();
    // A client whose ROLLBACK or COMMIT failed may be in any state: destroy it, not reuse it.
    let broken = false;
    try {
      try {
        await client.query("BEGIN");
        if (serializeMigrations) await client.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK_KEY]);
      } catch (error) {
        broken = true;
        throw toStoreError(error);
      }
      const tx = new Runner((config) => client.query(config), this.#trace);
      let result: T;
      try {
        result = await work(tx);
      } catch (error) {
        tx.end();
        await client.query("ROLLBACK").catch(() => {
          broken = true;
        });
        throw error;
      }
      tx.end();
      try {
        await client.query("COMMIT");
      } catch (error) {
        broken = true;
        throw toStoreError(error);
      }
      return result;
    } finally {
      client.release(broken);
    }
  }

  async #connect(): Promise<PoolClient> {
    try {
      return await this.#pool.connect();
    } catch (error) {
      throw toStoreError(error);
    }
  }
}

/** A store on the PostgreSQL database at `url`. Call `migrate()` before anything else. */
export function openPostgresStore(url: string, options: PostgresDriverOptions = {}): SqlStore {
  return new SqlStore(PostgresDriver.open(url, options));
}
