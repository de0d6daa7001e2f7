import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import pg from "pg";

export interface ThrowawaySchema {
  url: string;
  schema: string;
  /** A connection for the test's own queries (closed by drop()). */
  admin: pg.Client;
  drop(): Promise<void>;
}

/**
 * A fresh schema on TEST_DATABASE_URL for one test file. Fails (never skips) when the
 * variable is unset: `npm test` starts a throwaway PostgreSQL itself.
 */
export async function createThrowawaySchema(prefix: string): Promise<ThrowawaySchema> {
  const url = process.env["TEST_DATABASE_URL"];
  assert.ok(
    url,
    "TEST_DATABASE_URL is not set: run the tests through `npm test` or `node scripts/test.mjs <file>`, " +
      "which start a throwaway PostgreSQL, or set it to a database where they may create schemas.",
  );
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  const schema = `${prefix}_${randomBytes(6).toString("hex")}`;
  await admin.query(`CREATE SCHEMA ${schema}`);
  return {
    url,
    schema,
    admin,
    async drop() {
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
    },
  };
}
