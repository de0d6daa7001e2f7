import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import Database from "better-sqlite3";
import { generateKeyEncryptionKey, keyIdOf } from "../../src/core/crypto/secret-box.ts";
import { isAuthError } from "../../src/core/errors.ts";
import { createGatehouse, type CreateGatehouseOptions } from "../../src/gatehouse.ts";
import { createLogger } from "../../src/logging/logger.ts";
import { openPostgresStore } from "../../src/store/postgres/driver.ts";
import { createThrowawaySchema, type ThrowawaySchema } from "../helpers/postgres-schema.ts";
import { type CliRun, runCli } from "../helpers/cli.ts";

/**
 * `gatehouse keys reencrypt` changes the key-encryption key: every stored secret is re-sealed
 * in one transaction, the key file (when the key lives in one) is replaced atomically, and
 * Gatehouse starts with the new key and no longer with the old one. Run as the real CLI.
 */

type Run = CliRun;

const cli = (cwd: string, args: string[], env: Record<string, string>): Promise<Run> =>
  runCli(args, { cwd, env, timeoutMs: 60_000 });

const silent = createLogger({ level: "silent" });
const hexKey = (): string => generateKeyEncryptionKey().toString("hex");
const idOf = (hex: string): string => keyIdOf(Buffer.from(hex.trim(), "hex"));

/** Starts Gatehouse, returns the signing kid, closes it. */
async function signingKid(options: CreateGatehouseOptions): Promise<string> {
  const auth = await createGatehouse({ logger: silent, ...options });
  try {
    return auth.keys.signingKey().kid;
  } finally {
    await auth.close();
  }
}

const sealedIds = (values: string[]): Set<string> => new Set(values.map((value) => value.split(".")[1] ?? "plain"));

function sqliteSealedWith(path: string): Set<string> {
  const db = new Database(path, { readonly: true });
  try {
    const keys = db.prepare("SELECT private_jwk AS value FROM signing_keys").all() as { value: string }[];
    const settings = db.prepare("SELECT value FROM settings WHERE name = 'refresh_rotation_key'").all() as {
      value: string;
    }[];
    return sealedIds([...keys, ...settings].map((row) => row.value));
  } finally {
    db.close();
  }
}

const rejectsNamingKey = (error: unknown) =>
  isAuthError(error) && error.code === "invalid_config" && /KEY_ENCRYPTION_KEY/.test(error.message);

describe("gatehouse keys reencrypt (SQLite, key in the generated file)", () => {
  let cwd: string;
  let path: string;
  let keyFile: string;
  let env: Record<string, string>;
  let kid: string;

  before(async () => {
    cwd = mkdtempSync(join(tmpdir(), "gatehouse-reencrypt-"));
    path = join(cwd, "data", "gatehouse.db");
    keyFile = join(cwd, "data", "key-encryption-key");
    env = { DATABASE_URL: `sqlite:${path}` };
    kid = await signingKid({ database: `sqlite:${path}` });
  });
  after(() => rmSync(cwd, { recursive: true, force: true }));

  it("has --help naming the new-key inputs", async () => {
    const run = await cli(cwd, ["keys", "reencrypt", "--help"], env);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /--new-key-file/);
    assert.match(run.stdout, /KEY_ENCRYPTION_KEY/);
  });

  it("generates a new key into the file, re-seals everything with it, and the old key no longer opens", async () => {
    const oldKey = readFileSync(keyFile, "utf8");
    const run = await cli(cwd, ["keys", "reencrypt", "--json"], env);
    assert.equal(run.code, 0, run.stderr);
    const result = JSON.parse(run.stdout) as Record<string, unknown>;
    const newKey = readFileSync(keyFile, "utf8");
    assert.notEqual(newKey, oldKey);
    assert.deepEqual(result, {
      reencrypted: 2,
      previousKeyId: idOf(oldKey),
      keyId: idOf(newKey),
      keyFile,
      generated: true,
    });
    assert.equal(run.stdout.includes(newKey.trim()), false, "the key is never printed");
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    assert.deepEqual(
      readdirSync(join(cwd, "data")).filter((name) => name.includes("key-encryption")),
      ["key-encryption-key"],
    );
    assert.deepEqual(sqliteSealedWith(path), new Set([idOf(newKey)]));

    assert.equal(await signingKid({ database: `sqlite:${path}` }), kid, "starts with the new key, same signing key");
    await assert.rejects(
      createGatehouse({ database: `sqlite:${path}`, keyEncryptionKey: oldKey.trim(), logger: silent }),
      rejectsNamingKey,
    );
  });

  it("takes the new key from --new-key-file or NEW_KEY_ENCRYPTION_KEY and writes it to the key file", async () => {
    const given = join(cwd, "given-key");
    const fromFile = hexKey();
    writeFileSync(given, `${fromFile}\n`, { mode: 0o600 });
    const first = await cli(cwd, ["keys", "reencrypt", "--new-key-file", given], env);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, new RegExp(`Re-encrypted 2 stored secret\\(s\\) with key id ${idOf(fromFile)}`));
    assert.equal(readFileSync(keyFile, "utf8").trim(), fromFile);

    const fromEnvironment = Buffer.from(hexKey(), "hex").toString("base64");
    const second = await cli(cwd, ["keys", "reencrypt"], { ...env, NEW_KEY_ENCRYPTION_KEY: fromEnvironment });
    assert.equal(second.code, 0, second.stderr);
    assert.equal(Buffer.from(readFileSync(keyFile, "utf8").trim(), "hex").toString("base64"), fromEnvironment);
    assert.equal(await signingKid({ database: `sqlite:${path}` }), kid);
  });

  it("exits 2 on usage mistakes and changes nothing", async () => {
    const before = readFileSync(keyFile, "utf8");
    const sealedBefore = sqliteSealedWith(path);
    const current = before.trim();
    const cases: [string[], Record<string, string>, RegExp][] = [
      [
        ["keys", "reencrypt"],
        { NEW_KEY_ENCRYPTION_KEY: "too-short" },
        /NEW_KEY_ENCRYPTION_KEY must be 32 random bytes/,
      ],
      [["keys", "reencrypt", "--new-key-file", join(cwd, "missing")], {}, /--new-key-file .* cannot be read/],
      [["keys", "reencrypt", "--new-key-file", keyFile], { NEW_KEY_ENCRYPTION_KEY: hexKey() }, /not both/],
      [["keys", "reencrypt"], { NEW_KEY_ENCRYPTION_KEY: current }, /already in use/],
      [["keys", "reencrypt", "--bogus"], {}, /unknown option/],
    ];
    for (const [args, extra, message] of cases) {
      const run = await cli(cwd, args, { ...env, ...extra });
      assert.equal(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
      assert.match(run.stderr, message);
      assert.equal(run.stderr.includes(current), false);
    }
    assert.equal(readFileSync(keyFile, "utf8"), before);
    assert.deepEqual(sqliteSealedWith(path), sealedBefore);
  });

  it("exits 1 naming the key ids when the current key is not the database's, and changes nothing", async () => {
    const sealedBefore = sqliteSealedWith(path);
    const wrong = hexKey();
    const run = await cli(cwd, ["keys", "reencrypt"], {
      ...env,
      KEY_ENCRYPTION_KEY: wrong,
      NEW_KEY_ENCRYPTION_KEY: hexKey(),
    });
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, new RegExp(`key id .*${idOf(wrong)}`));
    assert.deepEqual(sqliteSealedWith(path), sealedBefore);
  });

  it("refuses to run over an unfinished earlier run's .new key file", async () => {
    writeFileSync(`${keyFile}.new`, `${hexKey()}\n`, { mode: 0o600 });
    try {
      const run = await cli(cwd, ["keys", "reencrypt"], env);
      assert.equal(run.code, 1, run.stderr);
      assert.match(run.stderr, /did not finish/);
      assert.ok(existsSync(`${keyFile}.new`), "the possibly needed key is kept");
    } finally {
      rmSync(`${keyFile}.new`);
    }
  });
});

describe("gatehouse keys reencrypt (PostgreSQL, key from KEY_ENCRYPTION_KEY)", () => {
  let db: ThrowawaySchema;
  let cwd: string;
  let url: string;

  before(async () => {
    db = await createThrowawaySchema("gatehouse_reencrypt");
    cwd = mkdtempSync(join(tmpdir(), "gatehouse-reencrypt-pg-"));
    const separator = db.url.includes("?") ? "&" : "?";
    url = `${db.url}${separator}options=${encodeURIComponent(`-c search_path=${db.schema}`)}`;
  });
  after(async () => {
    rmSync(cwd, { recursive: true, force: true });
    await db?.drop();
  });

  const sealedWith = async (): Promise<Set<string>> => {
    const keys = await db.admin.query<{ value: string }>(`SELECT private_jwk AS value FROM ${db.schema}.signing_keys`);
    const settings = await db.admin.query<{ value: string }>(
      `SELECT value FROM ${db.schema}.settings WHERE name = 'refresh_rotation_key'`,
    );
    return sealedIds([...keys.rows, ...settings.rows].map((row) => row.value));
  };

  it("re-seals every secret with NEW_KEY_ENCRYPTION_KEY in one transaction and writes no key file", async () => {
    const oldKey = hexKey();
    const newKey = hexKey();
    const kid = await signingKid({ store: openPostgresStore(db.url, { schema: db.schema }), keyEncryptionKey: oldKey });
    assert.deepEqual(await sealedWith(), new Set([idOf(oldKey)]));

    const usage = await cli(cwd, ["keys", "reencrypt"], { DATABASE_URL: url, KEY_ENCRYPTION_KEY: oldKey });
    assert.equal(usage.code, 2, usage.stderr);
    assert.match(usage.stderr, /NEW_KEY_ENCRYPTION_KEY/);

    const run = await cli(cwd, ["keys", "reencrypt", "--json"], {
      DATABASE_URL: url,
      KEY_ENCRYPTION_KEY: oldKey,
      NEW_KEY_ENCRYPTION_KEY: newKey,
    });
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), {
      reencrypted: 2,
      previousKeyId: idOf(oldKey),
      keyId: idOf(newKey),
      keyFile: null,
      generated: false,
    });
    assert.deepEqual(await sealedWith(), new Set([idOf(newKey)]));
    assert.equal(existsSync(join(cwd, "data")), false, "no key file for a key that comes from the environment");

    const store = openPostgresStore(db.url, { schema: db.schema });
    assert.equal(await signingKid({ store, keyEncryptionKey: newKey }), kid);
    const stale = openPostgresStore(db.url, { schema: db.schema });
    try {
      await assert.rejects(
        createGatehouse({ store: stale, keyEncryptionKey: oldKey, logger: silent }),
        rejectsNamingKey,
      );
    } finally {
      await stale.close();
    }
  });
});
