/**
 * The pieces `npm test` brings itself: a throwaway PostgreSQL that leaves nothing behind, and
 * Chromium resolution that fails with what to install instead of skipping.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import pg from "pg";
import { CHROMIUM_MISSING, resolveChromium } from "./chromium.ts";
import { startEmbeddedPostgres } from "./embedded-postgres.ts";

describe("embedded PostgreSQL for the tests", () => {
  it("starts a server with an empty gatehouse_test database, and stop() removes it and its files", async () => {
    const server = await startEmbeddedPostgres();
    let stopped = false;
    try {
      assert.ok(existsSync(join(server.folder, "data", "PG_VERSION")));
      const client = new pg.Client({ connectionString: server.url });
      await client.connect();
      const { rows } = await client.query<{ db: string; version: string }>(
        "SELECT current_database() AS db, current_setting('server_version_num') AS version",
      );
      await client.end();
      assert.equal(rows[0]?.db, "gatehouse_test");
      assert.ok(Number(rows[0]?.version) >= 180_000, `server_version_num ${rows[0]?.version}`);
      await server.stop();
      stopped = true;
      assert.equal(existsSync(server.folder), false, "the data folder survived stop()");
      const late = new pg.Client({ connectionString: server.url });
      late.on("error", () => {});
      await assert.rejects(late.connect(), "the server still accepts connections after stop()");
    } finally {
      if (!stopped) await server.stop();
    }
  });
});

describe("finding Chromium", () => {
  const saved = process.env["CHROMIUM_PATH"];
  const scratch = mkdtempSync(join(tmpdir(), "gatehouse-chromium-path-"));
  after(() => {
    if (saved === undefined) delete process.env["CHROMIUM_PATH"];
    else process.env["CHROMIUM_PATH"] = saved;
    rmSync(scratch, { recursive: true, force: true });
  });

  it("uses CHROMIUM_PATH when it names a program", async () => {
    process.env["CHROMIUM_PATH"] = process.execPath;
    const found = await resolveChromium();
    assert.equal(found.executablePath, process.execPath);
    assert.equal(found.source, "CHROMIUM_PATH");
  });

  it("fails, saying what to install, when CHROMIUM_PATH names no program", async () => {
    for (const wrong of [join(scratch, "missing"), scratch]) {
      process.env["CHROMIUM_PATH"] = wrong;
      await assert.rejects(resolveChromium(), (error: unknown) => {
        assert.ok(error instanceof Error);
        assert.ok(error.message.startsWith(`CHROMIUM_PATH is ${wrong}, which is not a program.`), error.message);
        assert.ok(error.message.endsWith(CHROMIUM_MISSING));
        return true;
      });
    }
  });
});
