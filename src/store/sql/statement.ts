import { type DialectName, numberPlaceholders, POSTGRES, type RowLock, SQLITE } from "./dialect.ts";

/** A value a statement binds; both drivers pass these through unchanged. */
export type SqlValue = string | number | null;

/**
 * One SQL statement, written once and rendered for each dialect when it is defined, so running
 * it costs no rendering. `Args` is the tuple of values it binds (the same for every dialect),
 * `Row` the shape of a row it returns (columns are snake_case, as both databases name them).
 */
export interface Statement<Args extends readonly SqlValue[] = readonly SqlValue[], Row = unknown> {
  /** Unique; PostgreSQL prepares each named statement once per connection under this name. */
  readonly name: string;
  readonly text: Readonly<Record<DialectName, string>>;
  /** How many values it binds. */
  readonly arity: number;
  /** Type-level only: never set. */
  readonly types?: { args: Args; row: Row };
}

const defined = new Map<string, Statement>();

/**
 * Defines a statement in SQLite's spelling with `?` placeholders; `forUpdate` makes it a
 * locking read (PostgreSQL appends FOR UPDATE, or FOR UPDATE SKIP LOCKED for "skip locked").
 * A name used twice throws at load time.
 */
export function statement<Args extends readonly SqlValue[], Row = never>(
  name: string,
  sql: string,
  options: { forUpdate?: RowLock } = {},
): Statement<Args, Row> {
  if (defined.has(name)) throw new Error(`Two SQL statements are named "${name}".`);
  const forUpdate = options.forUpdate ?? false;
  const text = { sqlite: SQLITE.render(sql, forUpdate), postgres: POSTGRES.render(sql, forUpdate) };
  const made: Statement<Args, Row> = { name: `gatehouse_${name}`, text, arity: numberPlaceholders(sql).count };
  defined.set(name, made);
  return made;
}

/** Every statement defined so far (tests check each one's rendering). */
export function definedStatements(): Statement[] {
  return [...defined.values()];
}
