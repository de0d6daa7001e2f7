import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, describe, it } from "node:test";
import pg from "pg";
import { AuthError } from "../../src/core/errors.ts";
import { openStore } from "../../src/store/open-store.ts";
import { openPostgresStore } from "../../src/store/postgres/driver.ts";
import { MIGRATIONS } from "../../src/store/sql/migrations.ts";
import { SqlStore } from "../../src/store/sql/sql-store.ts";
import { makeUser, storeContract } from "./contract.ts";
import { createPostgresSchemaV1 } from "./legacy-schema.ts";

/**
 * Runs the store contract against a real PostgreSQL (TEST_DATABASE_URL, which
 * `source ../shared/ci/services.sh` exports). Each test gets its own fresh schema, so runs
 * and tests never see each other's rows. Without the variable this file fails on purpose:
 * the PostgreSQL store must not go untested silently.
 */
const url = process.env.TEST_DATABASE_URL;

it("TEST_DATABASE_URL names a PostgreSQL server to test against", () => {
  assert.ok(
    url,
    "TEST_DATABASE_URL is not set. Run `source ../shared/ci/services.sh` first (it starts a throwaway PostgreSQL).",
  );
  assert.match(url, /^postgres(ql)?:\/\//);
});

if (url) {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  const schemas: string[] = [];
  after(async () => {
    for (const schema of schemas) await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  });

  const freshSchema = async (): Promise<string> => {
    const schema = `gatehouse_test_${randomBytes(6).toString("hex")}`;
    await admin.query(`CREATE SCHEMA ${schema}`);
    schemas.push(schema);
    return schema;
  };

  /** A fresh schema holding the tables exactly as the store before the shared SQL store made them. */
  const legacySchema = async (): Promise<string> => {
    const schema = await freshSchema();
    const client = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
    await client.connect();
    try {
      await createPostgresSchemaV1(client);
    } finally {
      await client.end();
    }
    return schema;
  };

  /** Columns, constraints and indexes of a schema, with the schema's own name taken out. */
  const describeSchema = async (schema: string): Promise<unknown> => {
    const columns = await admin.query(
      `SELECT table_name, column_name, data_type, is_nullable, column_default FROM information_schema.columns
       WHERE table_schema = $1 ORDER BY table_name, ordinal_position`,
      [schema],
    );
    const constraints = await admin.query(
      `SELECT cls.relname AS table_name, con.conname, con.contype, pg_get_constraintdef(con.oid) AS definition
       FROM pg_constraint con
       JOIN pg_class cls ON cls.oid = con.conrelid JOIN pg_namespace ns ON ns.oid = cls.relnamespace
       WHERE ns.nspname = $1 ORDER BY 1, 2`,
      [schema],
    );
    const indexes = await admin.query(
      "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = $1 ORDER BY 1, 2",
      [schema],
    );
    return JSON.parse(JSON.stringify([columns.rows, constraints.rows, indexes.rows]).replaceAll(schema, "<schema>"));
  };

  storeContract("postgres", async () => openPostgresStore(url, { schema: await freshSchema() }));
  storeContract("postgres (a schema the previous store made)", async () =>
    openPostgresStore(url, { schema: await legacySchema() }),
  );

  describe("the PostgreSQL schema", () => {
    it("a new schema gets the same tables, column types, constraints and indexes as an upgraded old one", async () => {
      const migrated = async (schema: string): Promise<string> => {
        const store = openPostgresStore(url, { schema });
        try {
          await store.migrate();
        } finally {
          await store.close();
        }
        return schema;
      };
      const made = await describeSchema(await migrated(await freshSchema()));
      const previous = await describeSchema(await migrated(await legacySchema()));
      assert.ok(JSON.stringify(made).includes("users_username_key_unique"));
      assert.deepEqual(made, previous);
    });
  });

  describe("the PostgreSQL store", () => {
    it("several instances migrating the same database at once all succeed, each step applied once", async () => {
      const schema = await freshSchema();
      const stores = await Promise.all(Array.from({ length: 4 }, () => openPostgresStore(url, { schema })));
      try {
        await Promise.all(stores.map((store) => store.migrate()));
        const { rows } = await admin.query(`SELECT version FROM ${schema}.schema_migrations ORDER BY version`);
        assert.deepEqual(
          rows.map((row) => row.version),
          MIGRATIONS.map((step) => step.version),
        );
        const user = makeUser();
        await stores[0]!.insertUser(user);
        assert.deepEqual(await stores[3]!.findUserById(user.id), user, "every instance sees the same data");
      } finally {
        for (const store of stores) await store.close();
      }
    });

    it("a transaction's row lock makes another instance wait, then see the committed row", async () => {
      const schema = await freshSchema();
      const [a, b] = [openPostgresStore(url, { schema }), openPostgresStore(url, { schema })];
      try {
        await a.migrate();
        await a.insertSession({
          id: "s1",
          userId: "u1",
          createdAt: 1,
          lastUsedAt: 1,
          absoluteExpiresAt: 10,
          idleExpiresAt: 10,
          endedAt: null,
          endReason: null,
          userAgent: null,
          ip: null,
        });
        await a.insertRefreshToken({ hash: "h1", sessionId: "s1", createdAt: 1, rotatedAt: null });
        const order: string[] = [];
        let release!: () => void;
        const gate = new Promise<void>((resolve) => {
          release = resolve;
        });
        let locked!: () => void;
        const lockTaken = new Promise<void>((resolve) => {
          locked = resolve;
        });
        const first = a.transaction(async (tx) => {
          await tx.lockRefreshToken("h1");
          locked();
          await gate;
          await tx.markRefreshTokenRotated("h1", 5);
          order.push("a committed");
        });
        await lockTaken;
        const second = b.transaction(async (tx) => {
          const row = await tx.lockRefreshToken("h1");
          order.push("b read");
          return row;
        });
        // Give b time to reach the lock; it must still be waiting. Assert only after
        // releasing, so a failure cannot leave a transaction open forever.
        await new Promise((resolve) => setTimeout(resolve, 100));
        const whileLocked = [...order];
        release();
        await first;
        const seen = await second;
        assert.deepEqual(whileLocked, [], "b did not read while a held the lock");
        assert.deepEqual(order, ["a committed", "b read"]);
        assert.equal(seen?.rotatedAt, 5, "the waiter reads the committed rotation");
      } finally {
        await a.close();
        await b.close();
      }
    });

    it("an unreachable server answers AuthError unavailable", async () => {
      const store = openPostgresStore("postgres://gatehouse:not-the-password@127.0.0.1:1/none", {
        connectTimeoutMs: 2000,
      });
      try {
        await assert.rejects(store.ping(), (error) => error instanceof AuthError && error.code === "unavailable");
        await assert.rejects(store.migrate(), (error) => error instanceof AuthError && error.code === "unavailable");
        await assert.rejects(
          store.transaction(async () => undefined),
          (error) =>
            error instanceof AuthError && error.code === "unavailable" && !error.message.includes("not-the-password"),
        );
      } finally {
        await store.close();
      }
    });

    it("openStore opens PostgreSQL for postgres:// and postgresql:// URLs", async () => {
      for (const candidate of [url, url.replace(/^postgres(ql)?:/, "postgresql:")]) {
        const store = await openStore(candidate);
        try {
          assert.ok(store instanceof SqlStore);
          assert.equal(store.dialect, "postgres");
          await store.ping();
        } finally {
          await store.close();
        }
      }
    });
  });
}
