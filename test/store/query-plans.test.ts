import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import Database from "better-sqlite3";
import { definedStatements } from "../../src/store/sql/statement.ts";
import { openSqliteStore } from "../../src/store/sqlite/driver.ts";

/**
 * A user's ended sessions stay in the table until they are pruned, so a query that walks all of
 * a user's rows gets slower with every login they ever made. The statements a login runs must
 * walk live sessions only, in order, through an index: checked on SQLite's query plan.
 */
describe("query plans (SQLite)", () => {
  const directory = mkdtempSync(join(tmpdir(), "gatehouse-plans-"));
  after(() => rmSync(directory, { recursive: true, force: true }));

  const plan = async (name: string): Promise<string> => {
    const file = join(directory, `${name}.db`);
    const store = await openSqliteStore(file);
    await store.migrate();
    await store.close();
    const db = new Database(file, { readonly: true });
    try {
      const found = definedStatements().find((statement) => statement.name === `gatehouse_${name}`);
      assert.ok(found, `statement ${name} exists`);
      const args = Array.from({ length: found.arity }, () => null);
      const rows = db.prepare(`EXPLAIN QUERY PLAN ${found.text.sqlite}`).all(...args) as { detail: string }[];
      return rows.map((row) => row.detail).join("\n");
    } finally {
      db.close();
    }
  };

  for (const name of ["listLiveSessionIdsBeyond", "listLiveSessions", "listLiveSessionsPage"]) {
    it(`${name} walks the live-sessions index in order, without sorting`, async () => {
      const detail = await plan(name);
      assert.match(detail, /USING (COVERING )?INDEX sessions_live_by_user/, detail);
      assert.doesNotMatch(detail, /TEMP B-TREE/, detail);
    });
  }
});
