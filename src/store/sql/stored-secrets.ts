import {
  outboxPayloadContext,
  SECRET_SETTINGS,
  settingContext,
  signingKeyContext,
} from "../../core/crypto/secret-contexts.ts";
import type { StoredSecret } from "../../core/store/stored-secrets.ts";
import type { SqlRunner } from "./driver.ts";
import { type Statement, statement } from "./statement.ts";

/**
 * A column holding secrets sealed with the SecretBox. Encrypting values older versions left
 * in plain text, changing the key-encryption key and `doctor` all walk this list, so a new
 * secret column is one entry here.
 */
interface SealedColumn {
  table: string;
  idColumn: string;
  valueColumn: string;
  /** Which rows hold secrets, as constant SQL (every row when absent). */
  where?: string;
  /** The SecretBox context of the row with this id. */
  context(id: string): string;
}

const quoted = (names: readonly string[]): string => names.map((name) => `'${name.replaceAll("'", "''")}'`).join(", ");

export const SEALED_COLUMNS: readonly SealedColumn[] = [
  { table: "signing_keys", idColumn: "kid", valueColumn: "private_jwk", context: signingKeyContext },
  {
    table: "settings",
    idColumn: "name",
    valueColumn: "value",
    where: `name IN (${quoted(SECRET_SETTINGS)})`,
    context: settingContext,
  },
  // Only sealed payloads: a JSON payload (a webhook) holds no secret and is never sealed.
  {
    table: "outbox",
    idColumn: "id",
    valueColumn: "payload",
    where: "payload NOT LIKE '{%'",
    context: outboxPayloadContext,
  },
];

interface SecretRow {
  id: string;
  value: string;
}

interface ColumnStatements {
  column: SealedColumn;
  list: Statement<[], SecretRow>;
  lock: Statement<[], SecretRow>;
  replace: Statement<[string, string, string]>;
}

const STATEMENTS: readonly ColumnStatements[] = SEALED_COLUMNS.map((column) => {
  const { table, idColumn, valueColumn, where } = column;
  const name = `${table}_${valueColumn}`;
  const select = `SELECT ${idColumn} AS id, ${valueColumn} AS value FROM ${table}${where ? ` WHERE ${where}` : ""}
     ORDER BY ${idColumn}`;
  return {
    column,
    list: statement<[], SecretRow>(`listSecrets_${name}`, select),
    lock: statement<[], SecretRow>(`lockSecrets_${name}`, select, { forUpdate: true }),
    // Only while the value is still the one read: a second writer changes nothing.
    replace: statement<[string, string, string]>(
      `replaceSecret_${name}`,
      `UPDATE ${table} SET ${valueColumn} = ? WHERE ${idColumn} = ? AND ${valueColumn} = ?`,
    ),
  };
});

const toSecret = (column: SealedColumn, row: SecretRow): StoredSecret => ({
  column: `${column.table}.${column.valueColumn}`,
  id: row.id,
  context: column.context(row.id),
  value: row.value,
});

export async function list(db: SqlRunner): Promise<StoredSecret[]> {
  const secrets: StoredSecret[] = [];
  for (const { column, list } of STATEMENTS) {
    for (const row of await db.all(list, [])) secrets.push(toSecret(column, row));
  }
  return secrets;
}

/** Call inside a transaction: rows are read locked (PostgreSQL; SQLite's transaction holds the write lock). */
export async function rewrite(tx: SqlRunner, rewrite: (secret: StoredSecret) => string | undefined): Promise<number> {
  let changed = 0;
  for (const { column, lock, replace } of STATEMENTS) {
    for (const row of await tx.all(lock, [])) {
      const next = rewrite(toSecret(column, row));
      if (next === undefined || next === row.value) continue;
      changed += await tx.run(replace, [next, row.id, row.value]);
    }
  }
  return changed;
}
