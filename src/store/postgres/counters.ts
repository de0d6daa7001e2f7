import type pg from "pg";
import { RateLimiterPostgres } from "rate-limiter-flexible";
import type { CounterStore } from "../../core/store/counters.ts";
import { withStore } from "../../core/throttle/limiter-backend.ts";

/** The table holding every shared throttle counter (keys carry each limiter's prefix). */
export const COUNTER_TABLE = "gatehouse_throttle";

/**
 * Throttle counters in one PostgreSQL table, shared by every instance on the same database
 * and schema. Creates the table first (rate-limiter-flexible's own layout; safe when several
 * instances start at once), so limiters made from the result can count at once.
 * @throws AuthError("unavailable") when the database cannot be reached or the table cannot be created.
 */
export async function openPostgresCounters(pool: pg.Pool, schema: string | undefined): Promise<CounterStore> {
  const table = {
    storeClient: pool,
    storeType: "pool",
    tableName: COUNTER_TABLE,
    ...(schema === undefined ? {} : { schemaName: schema }),
  };
  await withStore(
    () =>
      new Promise<void>((resolve, reject) => {
        // The constructor runs CREATE TABLE IF NOT EXISTS and reports through the callback.
        const creator = new RateLimiterPostgres(
          {
            ...table,
            tableCreated: false,
            keyPrefix: "gatehouse:setup",
            points: 1,
            duration: 1,
            clearExpiredByTimeout: false,
          },
          (error) => (error ? reject(error) : resolve()),
        );
        void creator;
      }),
  );
  return {
    scope: "shared",
    // Expired rows are swept every 5 minutes (rate-limiter-flexible's clearExpiredByTimeout, unref'd timer).
    limiter: (options) =>
      new RateLimiterPostgres({
        ...table,
        tableCreated: true,
        keyPrefix: options.keyPrefix,
        points: options.points,
        duration: options.durationSeconds,
      }),
  };
}
