import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import Database from "better-sqlite3";
import { AuthError } from "../../src/core/errors.ts";
import { MIGRATIONS } from "../../src/store/sql/migrations.ts";
import { openSqliteStore } from "../../src/store/sqlite/driver.ts";
import { makeSession, makeToken, makeUser, storeContract } from "./contract.ts";
import { createSqliteSchemaV1 } from "./legacy-schema.ts";

const tempDirs: string[] = [];
after(async () => {
  for (const dir of tempDirs) await rm(dir, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "gatehouse-sqlite-"));
  tempDirs.push(dir);
  return dir;
}

storeContract("sqlite (file)", async () => openSqliteStore(join(await tempDir(), "gatehouse.db")));
storeContract("sqlite (:memory:)", async () => openSqliteStore(":memory:"));
storeContract("sqlite (a file the previous schema made)", async () => openSqliteStore(await legacyFile()));

/** A database file exactly as the stores before the shared SQL store left it. */
async function legacyFile(): Promise<string> {
  const file = join(await tempDir(), "legacy.db");
  const raw = new Database(file);
  try {
    createSqliteSchemaV1(raw);
  } finally {
    raw.close();
  }
  return file;
}

/** Tables with their columns, indexes (and their columns) and foreign keys, as SQLite reports them. */
function describeSchema(file: string): unknown {
  const raw = new Database(file, { readonly: true });
  try {
    const tables = raw
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
      .pluck()
      .all() as string[];
    return tables.map((table) => ({
      table,
      columns: raw.pragma(`table_info(${table})`),
      indexes: (raw.pragma(`index_list(${table})`) as { name: string }[])
        .map((index) => ({ ...index, columns: raw.pragma(`index_info(${index.name})`) }))
        .sort((a, b) => a.name.localeCompare(b.name)),
      foreignKeys: raw.pragma(`foreign_key_list(${table})`),
    }));
  } finally {
    raw.close();
  }
}

describe("the SQLite schema", () => {
  it("a new database gets the same tables, column types, indexes and keys as an upgraded previous one", async () => {
    const migrated = async (file: string): Promise<string> => {
      const store = openSqliteStore(file);
      await store.migrate();
      await store.close();
      return file;
    };
    assert.deepEqual(
      describeSchema(await migrated(join(await tempDir(), "new.db"))),
      describeSchema(await migrated(await legacyFile())),
    );
  });

  it("opens a database the previous schema made, applying only the later steps, and keeps its rows", async () => {
    const file = await legacyFile();
    const raw = new Database(file);
    raw
      .prepare(
        `INSERT INTO users (id, username, username_key, password_hash, created_at, disabled_at, roles)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      )
      .run("u-old", "Old.Timer", "old.timer", "$argon2id$old", 1_700_000_000_000, null, '["admin"]');
    raw.close();
    const store = openSqliteStore(file);
    try {
      await store.migrate();
      assert.deepEqual(await store.findUserByUsername("OLD.TIMER"), {
        id: "u-old",
        username: "Old.Timer",
        passwordHash: "$argon2id$old",
        createdAt: 1_700_000_000_000,
        disabledAt: null,
        roles: ["admin"],
        email: null,
        emailVerifiedAt: null,
      });
      await assert.rejects(store.insertUser(makeUser({ username: "old.timer" })), (error) => {
        return error instanceof AuthError && error.code === "username_taken";
      });
    } finally {
      await store.close();
    }
    const check = new Database(file, { readonly: true });
    try {
      assert.deepEqual(
        check.prepare("SELECT version FROM schema_migrations ORDER BY version").pluck().all(),
        MIGRATIONS.map((step) => step.version),
      );
    } finally {
      check.close();
    }
  });
});

describe("the SQLite store on disk", () => {
  it("keeps users, sessions, tokens and settings across close and reopen", async () => {
    const file = join(await tempDir(), "nested", "dirs", "gatehouse.db");
    const user = makeUser({ username: "Persistent", roles: ["admin"] });
    const session = makeSession(user.id);
    const token = makeToken(session.id);

    const first = openSqliteStore(file);
    await first.migrate();
    await first.transaction(async (tx) => {
      await tx.insertUser(user);
      await tx.insertSession(session);
      await tx.insertRefreshToken(token);
    });
    await first.putSettingIfAbsent("rotation_key", "kept");
    await first.close();
    assert.ok(existsSync(file), "parent directories are created");

    const second = openSqliteStore(file);
    try {
      await second.migrate();
      assert.deepEqual(await second.findUserByUsername("persistent"), user);
      assert.deepEqual(await second.findSession(session.id), session);
      assert.deepEqual(await second.findRefreshToken(token.hash), token);
      assert.equal(await second.putSettingIfAbsent("rotation_key", "new"), "kept");
    } finally {
      await second.close();
    }
  });

  it("uses WAL journaling and records each schema version once", async () => {
    const file = join(await tempDir(), "gatehouse.db");
    const store = openSqliteStore(file);
    await store.migrate();
    await store.migrate();
    await store.insertUser(makeUser());
    assert.ok(existsSync(`${file}-wal`), "a write-ahead log exists while the store is open");
    await store.close();

    const raw = new Database(file, { readonly: true });
    try {
      assert.equal(raw.pragma("journal_mode", { simple: true }), "wal");
      assert.deepEqual(
        raw.prepare("SELECT version FROM schema_migrations ORDER BY version").pluck().all(),
        MIGRATIONS.map((step) => step.version),
      );
    } finally {
      raw.close();
    }
  });

  it("refuses a file that is not a SQLite database with AuthError unavailable", async () => {
    const file = join(await tempDir(), "not-a-database.db");
    await writeFile(file, "this is plain text, not a SQLite database file. ".repeat(100));
    assert.throws(
      () => openSqliteStore(file),
      (error) => error instanceof AuthError && error.code === "unavailable" && error.message.includes(file),
    );
  });

  it("reports a missing schema as unavailable instead of crashing", async () => {
    const store = openSqliteStore(":memory:");
    try {
      await assert.rejects(
        store.findUserById("x"),
        (error) => error instanceof AuthError && error.code === "unavailable",
      );
      await store.migrate();
      assert.equal(await store.findUserById("x"), null);
    } finally {
      await store.close();
    }
  });
});
