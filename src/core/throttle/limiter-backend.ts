import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterPostgres, RateLimiterRes } from "rate-limiter-flexible";
import { AuthError } from "../errors.ts";

/** The PostgreSQL table holding every shared throttle counter (keys carry each limiter's prefix). */
export const POSTGRES_THROTTLE_TABLE = "gatehouse_throttle";

/**
 * Counters in PostgreSQL, shared by every instance using the same database and schema.
 * Get one from {@link openPostgresThrottleBackend}, which creates the table first.
 */
export interface PostgresThrottleBackend {
  readonly kind: "postgres";
  /** A `pg.Pool` (opaque here: the core imports no database driver). */
  readonly client: unknown;
  /** Schema holding the table; unset: the connection's search_path. */
  readonly schema?: string;
}

/**
 * Where throttle counters live. `"memory"`: this process only — right for one instance.
 * A {@link PostgresThrottleBackend}: one table shared by every instance, so a limit counts
 * attempts wherever they land (CONTRACT §6).
 */
export type ThrottleBackend = "memory" | PostgresThrottleBackend;

/** The counter operations Gatehouse uses; every rate-limiter-flexible limiter provides them. */
export type CounterLimiter = Pick<RateLimiterAbstract, "consume" | "penalty" | "reward" | "get" | "block" | "delete">;

export interface CounterLimiterOptions {
  /** Namespaces the keys in a shared store. */
  keyPrefix: string;
  /** Points allowed per window. */
  points: number;
  /** Window length; a key's window starts with its first point. */
  durationSeconds: number;
}

function postgresLimiterOptions(backend: PostgresThrottleBackend, tableCreated: boolean) {
  return {
    storeClient: backend.client,
    storeType: "pool",
    tableName: POSTGRES_THROTTLE_TABLE,
    ...(backend.schema === undefined ? {} : { schemaName: backend.schema }),
    tableCreated,
  };
}

/**
 * Creates the shared counter table (if absent) in `schema` through `client`, a `pg.Pool`,
 * and returns the backend to pass as `backend`. Await it before serving: limiters built on
 * it assume the table exists. Safe to run from several instances at once.
 * @throws AuthError("unavailable") when the database cannot be reached or the table cannot be created.
 */
export async function openPostgresThrottleBackend(client: unknown, schema?: string): Promise<PostgresThrottleBackend> {
  const backend: PostgresThrottleBackend = { kind: "postgres", client, ...(schema === undefined ? {} : { schema }) };
  await withStore(
    () =>
      new Promise<void>((resolve, reject) => {
        // The constructor runs CREATE TABLE IF NOT EXISTS and reports through the callback.
        const creator = new RateLimiterPostgres(
          { ...postgresLimiterOptions(backend, false), keyPrefix: "gatehouse:setup", points: 1, duration: 1, clearExpiredByTimeout: false },
          (error) => (error ? reject(error) : resolve()),
        );
        void creator;
      }),
  );
  return backend;
}

/**
 * The one place that chooses a counter store. Windows and blocks are timed by the store
 * (rate-limiter-flexible uses the wall clock), not by Gatehouse's injectable Clock.
 */
export function createCounterLimiter(backend: ThrottleBackend, options: CounterLimiterOptions): CounterLimiter {
  const common = { keyPrefix: options.keyPrefix, points: options.points, duration: options.durationSeconds };
  if (backend === "memory") return new RateLimiterMemory(common);
  if (typeof backend === "object" && backend !== null && backend.kind === "postgres") {
    // Expired rows are swept every 5 minutes (rate-limiter-flexible's clearExpiredByTimeout, unref'd timer).
    return new RateLimiterPostgres({ ...postgresLimiterOptions(backend, true), ...common });
  }
  const name = typeof backend === "object" && backend !== null ? String((backend as { kind?: unknown }).kind) : String(backend);
  throw new AuthError("invalid_config", `Unknown throttle backend "${name}". Use "memory" or the result of openPostgresThrottleBackend().`);
}

/** Whole seconds until a counter frees up, at least 1 (what a Retry-After header can say). */
export function retryAfterSeconds(res: RateLimiterRes): number {
  return Math.max(1, Math.ceil(res.msBeforeNext / 1000));
}

/**
 * Runs a counter operation; a failing store (not a limit) becomes `AuthError("unavailable")`
 * so a broken backend answers 503, never 500.
 */
export async function withStore<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (error instanceof RateLimiterRes || error instanceof AuthError) throw error;
    throw new AuthError("unavailable", "The throttle store is unreachable. Try again shortly.", { cause: error });
  }
}
