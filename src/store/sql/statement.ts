import { type DialectName, numberPlaceholders, POSTGRES, type RenderOptions, SQLITE } from "./dialect.ts";

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
  /** Set when only this database runs it (a capability the other does its own way). */
  readonly onlyFor?: DialectName;
  /** Type-level only: never set. */
  readonly types?: { args: Args; row: Row };
}

const defined = new Map<string, Statement>();

export interface StatementOptions extends RenderOptions {
  /** Only this database runs the statement; the other never prepares it. */
  onlyFor?: DialectName;
}

/**
 * Defines a statement in SQLite's spelling with `?` placeholders; `forUpdate` makes it a
 * locking read (PostgreSQL appends FOR UPDATE, or FOR UPDATE SKIP LOCKED for "skip locked"), `notify` a write that announces each changed
 * row on the change feed (see Dialect.render). A name used twice throws at load time.
 */
export function statement<Args extends readonly SqlValue[], Row = never>(
  name: string,
  sql: string,
  options: StatementOptions = {},
): Statement<Args, Row> {
  if (defined.has(name)) throw new Error(`Two SQL statements are named "${name}".`);
  const { onlyFor, ...render } = options;
  const text = { sqlite: SQLITE.render(sql, render), postgres: POSTGRES.render(sql, render) };
  const made: Statement<Args, Row> = {
    name: `gatehouse_${name}`,
    text,
    arity: numberPlaceholders(sql).count,
    ...(onlyFor === undefined ? {} : { onlyFor }),
  };
  defined.set(name, made);
  return made;
}

/** Every statement defined so far (tests check each one's rendering). */
export function definedStatements(): Statement[] {
  return [...defined.values()];
}
