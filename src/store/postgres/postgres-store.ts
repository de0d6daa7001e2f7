import pg from "pg";
import type { PoolClient, QueryResult, QueryResultRow } from "pg";
import { AuthError } from "../../core/errors.ts";
import type { RefreshTokenRow } from "../rows.ts";
import { toRefreshToken } from "../rows.ts";
import type { RefreshTokenRecord, Store, TransactionOps } from "../store.ts";
import { toStoreError } from "../store-errors.ts";
import { PostgresOps } from "./postgres-ops.ts";
import { type NamedQuery, QUERIES } from "./queries.ts";
import { migratePostgres } from "./schema.ts";

/** Tuning for {@link PostgresStore.open}; the URL itself may carry the usual libpq parameters. */
export interface PostgresStoreOptions {
  /** Schema to use instead of the connection's default search_path (tests use a fresh one per run). */
  schema?: string;
  /** Most connections held open at once (default 10). */
  maxConnections?: number;
  /** How long to wait for a connection before answering "unavailable" (default 5000 ms). */
  connectTimeoutMs?: number;
}

const INT8_OID = 20;

/**
 * Times are BIGINT milliseconds, which pg returns as strings by default; they fit a
 * double exactly (until the year 285,616), so parse them as numbers.
 */
const types = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === INT8_OID && format !== "binary" ? (text: string) => Number(text) : pg.types.getTypeParser(oid, format as "text")) as typeof pg.types.getTypeParser,
};

/**
 * The shared store for several instances: a `pg` Pool. A transaction holds one pooled
 * client from BEGIN to COMMIT; `lockRefreshToken` takes a row lock (SELECT … FOR UPDATE)
 * so two instances rotating the same token take turns.
 */
export class PostgresStore extends PostgresOps implements Store {
  readonly kind = "postgres" as const;
  readonly #pool: pg.Pool;
  readonly #schema: string | undefined;
  #closed = false;

  private constructor(pool: pg.Pool, schema: string | undefined) {
    super();
    this.#pool = pool;
    this.#schema = schema;
    // An idle client losing its connection emits here; without a listener the process
    // would crash. The next query reports the outage as "unavailable" instead.
    this.#pool.on("error", () => undefined);
  }

  /**
   * Creates the pool for `url` (`postgres://user:password@host:port/db?…`). Connects lazily:
   * call `migrate()` or `ping()` to find out whether the database is reachable.
   * @throws AuthError("invalid_config") for a schema name that is not a plain identifier.
   */
  static async open(url: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const { schema, maxConnections = 10, connectTimeoutMs = 5000 } = options;
    if (schema !== undefined && !/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(schema)) {
      throw new AuthError("invalid_config", "The PostgreSQL schema name must be a plain identifier (letters, digits, underscore).");
    }
    const pool = new pg.Pool({
      connectionString: url,
      max: maxConnections,
      connectionTimeoutMillis: connectTimeoutMs,
      types,
      ...(schema === undefined ? {} : { options: `-c search_path=${schema}` }),
    });
    return new PostgresStore(pool, schema);
  }

  /**
   * The pool and schema behind this store, for companions that keep their own tables in the
   * same database (the shared login throttle). Queries on it are not Store operations.
   */
  get shared(): { pool: pg.Pool; schema: string | undefined } {
    return { pool: this.#pool, schema: this.#schema };
  }

  async migrate(): Promise<void> {
    const client = await this.#connect();
    let broken = false;
    try {
      await migratePostgres(client);
    } catch (error) {
      broken = true;
      throw toStoreError(error);
    } finally {
      client.release(broken);
    }
  }

  async transaction<T>(work: (tx: TransactionOps) => Promise<T>): Promise<T> {
    const client = await this.#connect();
    // A client whose ROLLBACK or COMMIT failed may be in any state: destroy it, not reuse it.
    let broken = false;
    try {
      try {
        await client.query("BEGIN");
      } catch (error) {
        broken = true;
        throw toStoreError(error);
      }
      const tx = new PostgresTransaction(client);
      let result: T;
      try {
        result = await work(tx);
      } catch (error) {
        tx.finish();
        await client.query("ROLLBACK").catch(() => {
          broken = true;
        });
        throw error;
      }
      tx.finish();
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

  async pruneSessions(before: number): Promise<number> {
    // Refresh tokens go with their session (ON DELETE CASCADE).
    return (await this.run(QUERIES.pruneSessions, [before])).rowCount ?? 0;
  }

  async ping(): Promise<void> {
    await this.run(QUERIES.ping, []);
  }

  /** Ends the pool once checked-out clients are released. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.end();
  }

  protected send<R extends QueryResultRow>(query: NamedQuery, values: unknown[]): Promise<QueryResult<R>> {
    return this.#pool.query<R>({ name: query.name, text: query.text, values });
  }

  async #connect(): Promise<PoolClient> {
    try {
      return await this.#pool.connect();
    } catch (error) {
      throw toStoreError(error);
    }
  }
}

/** The `tx` handed to transaction work: every query goes to the one client holding the transaction. */
class PostgresTransaction extends PostgresOps implements TransactionOps {
  readonly #client: PoolClient;
  #finished = false;

  constructor(client: PoolClient) {
    super();
    this.#client = client;
  }

  async lockRefreshToken(hash: string): Promise<RefreshTokenRecord | null> {
    const { rows } = await this.run<RefreshTokenRow>(QUERIES.lockRefreshToken, [hash]);
    return rows[0] ? toRefreshToken(rows[0]) : null;
  }

  finish(): void {
    this.#finished = true;
  }

  protected send<R extends QueryResultRow>(query: NamedQuery, values: unknown[]): Promise<QueryResult<R>> {
    if (this.#finished) {
      return Promise.reject(
        new AuthError(
          "internal_error",
          "A store transaction was used after it ended. Use the tx argument only inside its transaction callback.",
        ),
      );
    }
    return this.#client.query<R>({ name: query.name, text: query.text, values });
  }
}
