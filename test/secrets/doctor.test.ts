import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { generateKeyEncryptionKey } from "../../src/core/crypto/secret-box.ts";
import { generateSigningKeyRecord } from "../../src/core/keys/key-material.ts";
import type { Store } from "../../src/core/store/store.ts";
import { createGatehouse } from "../../src/gatehouse.ts";
import { createLogger } from "../../src/logging/logger.ts";
import { openPostgresStore } from "../../src/store/postgres/driver.ts";
import { openSqliteStore } from "../../src/store/sqlite/driver.ts";
import { runCli } from "../helpers/cli.ts";
import { createThrowawaySchema, type ThrowawaySchema } from "../helpers/postgres-schema.ts";

/**
 * `gatehouse doctor` reports what encryption at rest depends on: secrets still in plain text,
 * secrets encrypted with another key, a generated key where --strict wants KEY_ENCRYPTION_KEY,
 * and files other accounts can read.
 */

/** Settings doctor accepts without warnings, so each test sees only what it is about. */
const QUIET = { COOKIE_SECURE: "true", REGISTRATION: "closed" };
const posix = process.platform !== "win32";

interface Finding {
  setting: string;
  status: "ok" | "warn" | "fail";
  message: string;
}
interface Report {
  code: number | null;
  ok: boolean;
  findings: Finding[];
}

async function doctor(cwd: string, env: Record<string, string>, args: string[] = []): Promise<Report> {
  const run = await runCli(["doctor", "--json", ...args], { cwd, env: { ...QUIET, ...env }, timeoutMs: 60_000 });
  assert.ok(run.stdout.startsWith("{"), `doctor printed JSON: ${run.stdout}${run.stderr}`);
  return { code: run.code, ...(JSON.parse(run.stdout) as { ok: boolean; findings: Finding[] }) };
}

const about = (report: Report, setting: string, status: Finding["status"]): Finding[] =>
  report.findings.filter((finding) => finding.setting === setting && finding.status === status);

async function storePlainSecrets(store: Store): Promise<void> {
  await store.migrate();
  await store.insertSigningKey(generateSigningKeyRecord("EdDSA", Date.now()));
  await store.putSettingIfAbsent("refresh_rotation_key", "plain-rotation-key-from-an-older-version-0123456789");
  await store.close();
}

describe("doctor on secrets at rest (SQLite)", () => {
  let root: string;
  before(() => {
    root = mkdtempSync(join(tmpdir(), "gatehouse-doctor-"));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it("fails on secrets stored in plain text, and passes once a start has encrypted them", async () => {
    const cwd = join(root, "plain");
    const path = join(cwd, "data", "gatehouse.db");
    const keyEncryptionKey = generateKeyEncryptionKey().toString("hex");
    await storePlainSecrets(openSqliteStore(path));
    const env = { DATABASE_URL: `sqlite:${path}`, KEY_ENCRYPTION_KEY: keyEncryptionKey };

    const plain = await doctor(cwd, env);
    assert.equal(plain.code, 1);
    const [finding] = about(plain, "KEY_ENCRYPTION_KEY", "fail");
    assert.match(finding?.message ?? "", /2 stored secret\(s\) are in plain text .*signing_keys\.private_jwk/);

    await (
      await createGatehouse({ database: `sqlite:${path}`, keyEncryptionKey, logger: createLogger({ level: "silent" }) })
    ).close();
    const sealed = await doctor(cwd, env, ["--strict"]);
    assert.equal(sealed.code, 0, JSON.stringify(sealed.findings));
    assert.match(
      about(sealed, "KEY_ENCRYPTION_KEY", "ok")
        .map((f) => f.message)
        .join(" "),
      /2 stored secret\(s\), all encrypted/,
    );
  });

  it("warns about a generated key file, which --strict refuses, and fails with another key", async () => {
    const cwd = join(root, "generated");
    const path = join(cwd, "data", "gatehouse.db");
    await (await createGatehouse({ database: `sqlite:${path}`, logger: createLogger({ level: "silent" }) })).close();
    const env = { DATABASE_URL: `sqlite:${path}` };

    const relaxed = await doctor(cwd, env);
    assert.equal(relaxed.code, 0, JSON.stringify(relaxed.findings));
    assert.match(about(relaxed, "KEY_ENCRYPTION_KEY", "warn")[0]?.message ?? "", /not set.*generated file .*--strict/);
    assert.equal((await doctor(cwd, env, ["--strict"])).code, 1);

    const fromFile = readFileSync(join(cwd, "data", "key-encryption-key"), "utf8").trim();
    const configured = await doctor(cwd, { ...env, KEY_ENCRYPTION_KEY: fromFile }, ["--strict"]);
    assert.equal(configured.code, 0, JSON.stringify(configured.findings));

    const other = await doctor(cwd, { ...env, KEY_ENCRYPTION_KEY: generateKeyEncryptionKey().toString("hex") });
    assert.equal(other.code, 1);
    assert.match(
      about(other, "KEY_ENCRYPTION_KEY", "fail")[0]?.message ?? "",
      /encrypted with key id .*will not start/,
    );
  });

  it("fails on a data directory, database files or key file other accounts can read", { skip: !posix }, async () => {
    const cwd = join(root, "loose");
    const data = join(cwd, "data");
    const path = join(data, "gatehouse.db");
    await (await createGatehouse({ database: `sqlite:${path}`, logger: createLogger({ level: "silent" }) })).close();
    const env = { DATABASE_URL: `sqlite:${path}` };
    const tight = await doctor(cwd, env);
    assert.deepEqual(about(tight, "DATABASE_URL", "fail"), []);
    assert.match(
      about(tight, "DATABASE_URL", "ok")
        .map((f) => f.message)
        .join(" "),
      /private to this account/,
    );

    chmodSync(data, 0o755);
    chmodSync(path, 0o644);
    chmodSync(join(data, "key-encryption-key"), 0o640);
    const loose = await doctor(cwd, env);
    assert.equal(loose.code, 1);
    const messages = loose.findings.filter((f) => f.status === "fail").map((f) => f.message);
    assert.ok(
      messages.some((m) => m.includes(`chmod 700 ${data}`)),
      messages.join("\n"),
    );
    assert.ok(
      messages.some((m) => m.includes(`chmod 600 ${path}`)),
      messages.join("\n"),
    );
    assert.match(about(loose, "KEY_ENCRYPTION_KEY", "fail")[0]?.message ?? "", /mode 640.*chmod 600/);
  });
});

describe("doctor on secrets at rest (PostgreSQL)", () => {
  let db: ThrowawaySchema;
  let cwd: string;
  before(async () => {
    db = await createThrowawaySchema("gatehouse_doctor");
    cwd = mkdtempSync(join(tmpdir(), "gatehouse-doctor-pg-"));
  });
  after(async () => {
    rmSync(cwd, { recursive: true, force: true });
    await db?.drop();
  });

  it("fails on plain-text rows and warns that every instance needs KEY_ENCRYPTION_KEY", async () => {
    await storePlainSecrets(openPostgresStore(db.url, { schema: db.schema }));
    const separator = db.url.includes("?") ? "&" : "?";
    const url = `${db.url}${separator}options=${encodeURIComponent(`-c search_path=${db.schema}`)}`;
    const report = await doctor(cwd, { DATABASE_URL: url });
    assert.equal(report.code, 1);
    assert.match(about(report, "KEY_ENCRYPTION_KEY", "fail")[0]?.message ?? "", /in plain text/);
    assert.match(about(report, "KEY_ENCRYPTION_KEY", "warn")[0]?.message ?? "", /every instance needs the same key/);
  });
});
