import type { SqlDriver, SqlRunner } from "./driver.ts";
import { type Migration, MIGRATIONS } from "./migrations.ts";
import { statement } from "./statement.ts";

const APPLIED = statement<[], { version: number }>("appliedMigrations", "SELECT version FROM schema_migrations");
const RECORD = statement<[number, string, number]>(
  "recordMigration",
  "INSERT INTO schema_migrations (version, description, applied_at) VALUES (?, ?, ?)",
);

/** Whether every step of `migrations` is recorded as applied (a read; changes nothing). */
export async function isSchemaCurrent(db: SqlRunner, migrations: readonly Migration[] = MIGRATIONS): Promise<boolean> {
  const done = new Set((await db.all(APPLIED, [])).map((row) => row.version));
  return migrations.every((step) => done.has(step.version));
}

/**
 * Applies every step not yet recorded in `schema_migrations`, in one transaction that no
 * other process can run at the same time, so instances starting together apply each step
 * once. Idempotent: a second call finds nothing to do. Returns the versions it applied.
 */
export function migrate(driver: SqlDriver, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  return driver.schemaTransaction(async (tx) => {
    await tx.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version     INTEGER PRIMARY KEY,
      description TEXT NOT NULL,
      applied_at  ${tx.dialect.millisType} NOT NULL
    )`);
    const done = new Set((await tx.all(APPLIED, [])).map((row) => row.version));
    const applied: number[] = [];
    for (const step of [...migrations].sort((a, b) => a.version - b.version)) {
      if (done.has(step.version)) continue;
      await tx.exec(step.ddl(tx.dialect));
      // applied_at is bookkeeping for people reading the table, so this process's clock is fine.
      await tx.run(RECORD, [step.version, step.description, Date.now()]);
      applied.push(step.version);
    }
    return applied;
  });
}
