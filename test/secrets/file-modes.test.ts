import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createGatehouse, type Gatehouse } from "../../src/gatehouse.ts";
import { createLogger } from "../../src/logging/logger.ts";

const modeOf = (path: string): string => (statSync(path).mode & 0o777).toString(8).padStart(3, "0");
const posix = process.platform !== "win32";

describe("files Gatehouse creates are private to its account", { skip: !posix && "POSIX modes only" }, () => {
  let root: string;
  let dataDir: string;
  let databasePath: string;
  let auth: Gatehouse;

  before(async () => {
    root = mkdtempSync(join(tmpdir(), "gatehouse-modes-"));
    dataDir = join(root, "data");
    databasePath = join(dataDir, "gatehouse.db");
    auth = await createGatehouse({ database: `sqlite:${databasePath}`, logger: createLogger({ level: "silent" }) });
    // A write after start-up, so the WAL and shared-memory files certainly exist now.
    await auth.store.putSettingIfAbsent("file_modes_probe", "x");
  });

  after(async () => {
    await auth?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it("creates the data directory 0700", () => {
    assert.equal(modeOf(dataDir), "700");
  });

  it("creates the database file and its -wal and -shm files 0600", () => {
    assert.equal(modeOf(databasePath), "600");
    for (const suffix of ["-wal", "-shm"]) {
      assert.ok(existsSync(databasePath + suffix), `${suffix} file exists while the database is open`);
      assert.equal(modeOf(databasePath + suffix), "600", `${suffix} file mode`);
    }
  });

  it("writes the generated key-encryption key 0600 next to the database", () => {
    const keyFile = join(dataDir, "key-encryption-key");
    assert.ok(existsSync(keyFile));
    assert.equal(modeOf(keyFile), "600");
  });
});
