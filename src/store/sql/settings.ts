import type { SqlRunner } from "./driver.ts";
import { statement } from "./statement.ts";

const GET = statement<[string], { value: string }>("getSetting", "SELECT value FROM settings WHERE name = ?");
const INSERT_IF_ABSENT = statement<[string, string]>(
  "insertSettingIfAbsent",
  "INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
);

export async function get(db: SqlRunner, name: string): Promise<string | null> {
  return (await db.get(GET, [name]))?.value ?? null;
}

export async function putIfAbsent(db: SqlRunner, name: string, value: string): Promise<string> {
  // Two statements on purpose: a setting is never changed once written, so whatever runs in
  // between, the read returns the first writer's value. (On PostgreSQL, under READ
  // COMMITTED, it sees a row another instance committed while this INSERT waited on it.)
  await db.run(INSERT_IF_ABSENT, [name, value]);
  return (await get(db, name)) ?? value;
}
