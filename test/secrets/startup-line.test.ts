import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { createThrowawaySchema } from "../helpers/postgres-schema.ts";
import { runUntilExit, spawnServer } from "../helpers/spawn-server.ts";

/** What `npm start` says about the key-encryption key: generated (never printed), or why it cannot start. */
describe("the start-up line and the key-encryption key", () => {
  const cwd = mkdtempSync(join(tmpdir(), "gatehouse-kek-start-"));
  after(() => rmSync(cwd, { recursive: true, force: true }));

  it("announces the generated key file on the first start, never the key, and nothing on a restart", async () => {
    const first = await spawnServer(cwd, {});
    await first.stop();
    const key = readFileSync(join(cwd, "data", "key-encryption-key"), "utf8").trim();
    const announce = first.output
      .join("")
      .split("\n")
      .filter((line) => line.includes("Gatehouse listening"));
    assert.equal(announce.length, 1);
    assert.match(announce[0]!, /generated key-encryption key .*data\/key-encryption-key/);
    assert.equal(first.output.join("").includes(key), false, "the key is never printed");

    const second = await spawnServer(cwd, {});
    await second.stop();
    assert.doesNotMatch(second.output.join(""), /key-encryption key/);
  });

  it("stops with one line naming KEY_ENCRYPTION_KEY: a malformed key, a database copied without its key", async () => {
    const malformed = await runUntilExit(cwd, { KEY_ENCRYPTION_KEY: "0123456789abcdef" });
    assert.equal(malformed.code, 1, malformed.output);
    assert.equal(malformed.output.trim().split("\n").length, 1, malformed.output);
    assert.match(malformed.output, /^gatehouse: KEY_ENCRYPTION_KEY must be 32 random bytes/);

    const elsewhere = join(cwd, "copy");
    mkdirSync(join(elsewhere, "data"), { recursive: true });
    // The database with its write-ahead log, if any is left: everything but the key file.
    for (const file of ["gatehouse.db", "gatehouse.db-wal"]) {
      if (existsSync(join(cwd, "data", file))) copyFileSync(join(cwd, "data", file), join(elsewhere, "data", file));
    }
    const copied = await runUntilExit(elsewhere, {});
    assert.equal(copied.code, 1, copied.output);
    assert.equal(copied.output.trim().split("\n").length, 1, copied.output);
    assert.match(copied.output, /^gatehouse: KEY_ENCRYPTION_KEY is not set and the key file .* does not exist/);
  });

  it("on PostgreSQL without KEY_ENCRYPTION_KEY, says loudly the generated key is on this machine only", async () => {
    const db = await createThrowawaySchema("gatehouse_kek_start");
    const separator = db.url.includes("?") ? "&" : "?";
    const url = `${db.url}${separator}options=${encodeURIComponent(`-c search_path=${db.schema}`)}`;
    const pgCwd = join(cwd, "pg");
    mkdirSync(pgCwd);
    try {
      const first = await spawnServer(pgCwd, { DATABASE_URL: url });
      await first.stop();
      assert.match(
        first.output.join(""),
        /generated key-encryption key .* ON THIS MACHINE ONLY: set KEY_ENCRYPTION_KEY/,
      );
      const second = await spawnServer(pgCwd, { DATABASE_URL: url });
      await second.stop();
      assert.match(second.output.join(""), /"level":40.*KEY_ENCRYPTION_KEY is not set/);
    } finally {
      await db.drop();
    }
  });
});
