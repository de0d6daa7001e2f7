import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { after, describe, it } from "node:test";
import { AuthError } from "../../src/core/errors.ts";
import { openStore, redactUrl, sqliteFileOf } from "../../src/store/open-store.ts";
import { SqlStore } from "../../src/store/sql/sql-store.ts";
import { makeUser } from "./contract.ts";

const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "gatehouse-open-store-"));
  dirs.push(dir);
  return dir;
}

/** Opens the URL, writes a user, and checks the file the URL should name now exists. */
async function assertOpensSqliteAt(databaseUrl: string, expectedFile: string): Promise<void> {
  const store = await openStore(databaseUrl);
  try {
    assert.ok(store instanceof SqlStore);
    assert.equal(store.dialect, "sqlite");
    await store.migrate();
    const user = makeUser();
    await store.insertUser(user);
    assert.deepEqual(await store.findUserById(user.id), user);
  } finally {
    await store.close();
  }
  assert.ok(existsSync(expectedFile), `${databaseUrl} should create ${expectedFile}`);
}

function isInvalidConfig(error: unknown): error is AuthError {
  return error instanceof AuthError && error.code === "invalid_config" && error.message.includes("DATABASE_URL");
}

describe("openStore", () => {
  it("accepts sqlite:<path>, sqlite://<path>, file:<path>, file:// URLs and bare .db/.sqlite paths", async () => {
    const dir = await tempDir();
    await assertOpensSqliteAt(`sqlite:${join(dir, "a.db")}`, join(dir, "a.db"));
    await assertOpensSqliteAt(`sqlite://${join(dir, "b.db")}`, join(dir, "b.db"));
    await assertOpensSqliteAt(`file:${join(dir, "c.db")}`, join(dir, "c.db"));
    await assertOpensSqliteAt(pathToFileURL(join(dir, "d e.db")).href, join(dir, "d e.db"));
    await assertOpensSqliteAt(join(dir, "e.db"), join(dir, "e.db"));
    await assertOpensSqliteAt(join(dir, "f.sqlite"), join(dir, "f.sqlite"));
    const relativePath = relative(process.cwd(), join(dir, "sub", "g.db"));
    await assertOpensSqliteAt(`sqlite:${relativePath}`, join(dir, "sub", "g.db"));
  });

  it("opens a private in-memory database for sqlite::memory:", async () => {
    const first = await openStore("sqlite::memory:");
    const second = await openStore("sqlite::memory:");
    try {
      await first.migrate();
      await second.migrate();
      await first.insertUser(makeUser({ username: "only-in-first" }));
      assert.ok(await first.findUserByUsername("only-in-first"));
      assert.equal(await second.findUserByUsername("only-in-first"), null);
      assert.equal(existsSync(":memory:"), false, "no file named :memory: is created");
    } finally {
      await first.close();
      await second.close();
    }
  });

  it("refuses an unknown scheme with invalid_config naming DATABASE_URL, without echoing credentials", async () => {
    for (const bad of [
      "mysql://admin:hunter2secret@db.internal/app",
      "redis://:hunter2secret@cache:6379",
      "admin:hunter2secret@host/db",
    ]) {
      await assert.rejects(openStore(bad), (error) => {
        assert.ok(isInvalidConfig(error), String(error));
        assert.match(error.message, /must start with sqlite: or postgres:\/\//);
        assert.doesNotMatch(error.message, /hunter2secret/);
        return true;
      });
    }
    await assert.rejects(openStore("./data/no-extension"), isInvalidConfig);
    await assert.rejects(openStore("sqlite:"), isInvalidConfig);
  });
});

describe("database drivers", () => {
  it("load only when a URL needs them: the library alone loads neither better-sqlite3 nor pg", () => {
    const root = fileURLToPath(new URL("../../", import.meta.url));
    const script = `
      import { createRequire } from "node:module";
      const cache = createRequire(import.meta.url).cache;
      const driver = /node_modules[\\/\\\\](better-sqlite3|pg)[\\/\\\\]/;
      const loaded = () => [...new Set(Object.keys(cache).flatMap((p) => driver.exec(p)?.[1] ?? []))];
      const steps = {};
      await import(${JSON.stringify(pathToFileURL(join(root, "src/index.ts")).href)});
      steps.library = loaded();
      const { openStore } = await import(${JSON.stringify(pathToFileURL(join(root, "src/store/open-store.ts")).href)});
      const sqlite = await openStore("sqlite::memory:");
      steps.sqlite = loaded();
      const postgres = await openStore("postgres://nobody@127.0.0.1:1/none");
      steps.postgres = loaded().sort();
      await sqlite.close();
      await postgres.close();
      console.log(JSON.stringify(steps));
    `;
    const out = execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      cwd: root,
      encoding: "utf8",
      timeout: 60_000,
    });
    assert.deepEqual(JSON.parse(out.trim().split("\n").pop()!), {
      library: [],
      sqlite: ["better-sqlite3"],
      postgres: ["better-sqlite3", "pg"],
    });
  });
});

describe("sqliteFileOf", () => {
  it("names the file of every SQLite URL form, and nothing for memory, PostgreSQL or junk", () => {
    assert.equal(sqliteFileOf("sqlite:./data/a.db"), "./data/a.db");
    assert.equal(sqliteFileOf("sqlite://./data/a.db"), "./data/a.db");
    assert.equal(sqliteFileOf("file:./a.db"), "./a.db");
    assert.equal(sqliteFileOf("file:///tmp/a.db"), "/tmp/a.db");
    assert.equal(sqliteFileOf(" ./plain.sqlite "), "./plain.sqlite");
    assert.equal(sqliteFileOf("sqlite::memory:"), undefined);
    assert.equal(sqliteFileOf("sqlite:"), undefined);
    assert.equal(sqliteFileOf("postgres://u:p@h/db"), undefined);
    assert.equal(sqliteFileOf("mysql://x"), undefined);
  });
});

describe("redactUrl", () => {
  it("hides the whole password, even one containing @, / or ?", () => {
    assert.equal(redactUrl("postgres://u:p@ss@host/db"), "postgres://***@host/db");
    assert.equal(
      redactUrl("postgresql://app:s3cr@t@pa/ss?w0rd@db.example.com:5432/app?sslmode=require"),
      "postgresql://***@db.example.com:5432/app?sslmode=require",
    );
    assert.equal(redactUrl("postgres://user:p%40ss@host:5432/db"), "postgres://***@host:5432/db");
    assert.equal(redactUrl("postgres://justuser@host/db"), "postgres://***@host/db");
  });

  it("hides a password given as a query parameter", () => {
    assert.equal(
      redactUrl("postgres://host/db?user=app&password=hunter2secret&sslmode=require"),
      "postgres://host/db?user=app&password=***&sslmode=require",
    );
    assert.equal(redactUrl("postgres://host/db?PASSWORD=hunter2secret"), "postgres://host/db?PASSWORD=***");
  });

  it("redacts URLs inside a longer message and leaves URLs without credentials alone", () => {
    assert.equal(
      redactUrl("could not connect to postgres://u:p@ss@host/db: timeout (retrying postgres://v:w@x@other/db)"),
      "could not connect to postgres://***@host/db: timeout (retrying postgres://***@other/db)",
    );
    for (const plain of [
      "postgres://db.internal:5432/app",
      "sqlite:./data/gatehouse.db",
      "sqlite::memory:",
      "connect ECONNREFUSED 127.0.0.1:5432",
    ]) {
      assert.equal(redactUrl(plain), plain);
    }
  });
});
