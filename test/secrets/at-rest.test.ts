import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import Database from "better-sqlite3";
import { parseKeyEncryptionKey } from "../../src/core/crypto/key-encryption-key.ts";
import { createSecretBox, generateKeyEncryptionKey, type SecretBox } from "../../src/core/crypto/secret-box.ts";
import { isAuthError } from "../../src/core/errors.ts";
import { generateSigningKeyRecord } from "../../src/core/keys/key-material.ts";
import type { Store } from "../../src/core/store/store.ts";
import { createGatehouse, type CreateGatehouseOptions, type Gatehouse } from "../../src/gatehouse.ts";
import { createLogger } from "../../src/logging/logger.ts";
import { openPostgresStore } from "../../src/store/postgres/driver.ts";
import { openSqliteStore } from "../../src/store/sqlite/driver.ts";
import { createThrowawaySchema, type ThrowawaySchema } from "../helpers/postgres-schema.ts";

/**
 * Private signing keys and the refresh-rotation key are encrypted at rest on both stores:
 * neither the database file, its write-ahead log nor the PostgreSQL rows hold them in clear,
 * values older versions stored in plain text are encrypted at start-up, and a database
 * without its key-encryption key is refused with a message naming KEY_ENCRYPTION_KEY.
 */

const silent = createLogger({ level: "silent" });
const start = (options: CreateGatehouseOptions): Promise<Gatehouse> => createGatehouse({ logger: silent, ...options });
const hexKey = (): string => generateKeyEncryptionKey().toString("hex");
const SQLITE_KEY_FILE = "key-encryption-key";

interface RawSecrets {
  privateJwks: { kid: string; value: string }[];
  rotationKey: string | undefined;
}

/** Rows as stored, read by a separate connection (never through Gatehouse's store). */
function rawSqliteSecrets(path: string): RawSecrets {
  const db = new Database(path, { readonly: true });
  try {
    const privateJwks = db
      .prepare("SELECT kid, private_jwk AS value FROM signing_keys")
      .all() as RawSecrets["privateJwks"];
    const row = db.prepare("SELECT value FROM settings WHERE name = 'refresh_rotation_key'").get() as
      | { value: string }
      | undefined;
    return { privateJwks, rotationKey: row?.value };
  } finally {
    db.close();
  }
}

async function rawPostgresSecrets(db: ThrowawaySchema): Promise<RawSecrets> {
  const keys = await db.admin.query<{ kid: string; value: string }>(
    `SELECT kid, private_jwk AS value FROM ${db.schema}.signing_keys`,
  );
  const setting = await db.admin.query<{ value: string }>(
    `SELECT value FROM ${db.schema}.settings WHERE name = 'refresh_rotation_key'`,
  );
  return { privateJwks: keys.rows, rotationKey: setting.rows[0]?.value };
}

/** The secret parts in clear: each private key's `d`, and the rotation key. */
function clearSecrets(raw: RawSecrets, box: SecretBox): string[] {
  const secrets = raw.privateJwks.map(({ kid, value }) => {
    const jwk = JSON.parse(value.startsWith("{") ? value : box.open(value, `signing_key:${kid}`)) as { d: string };
    return jwk.d;
  });
  assert.ok(raw.rotationKey !== undefined, "a rotation key is stored");
  secrets.push(
    raw.rotationKey.startsWith("ghenc1.") ? box.open(raw.rotationKey, "setting:refresh_rotation_key") : raw.rotationKey,
  );
  return secrets;
}

function assertAllSealed(raw: RawSecrets): void {
  assert.ok(raw.privateJwks.length > 0, "a signing key is stored");
  for (const { kid, value } of raw.privateJwks) {
    assert.match(value, /^ghenc1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/, `private key ${kid} is sealed`);
    assert.doesNotMatch(value, /"d"/);
  }
  assert.match(raw.rotationKey ?? "", /^ghenc1\./, "rotation key is sealed");
}

/** Every byte SQLite keeps for this database: the file and, while open, its write-ahead log. */
function sqliteBytes(path: string): Buffer {
  return Buffer.concat([path, `${path}-wal`].filter(existsSync).map((file) => readFileSync(file)));
}

function assertNotInBytes(bytes: Buffer, secrets: readonly string[]): void {
  for (const secret of secrets) {
    assert.ok(secret.length >= 32, "a real secret was found to look for");
    assert.equal(bytes.includes(Buffer.from(secret, "latin1")), false, "a secret is in the database bytes in clear");
  }
}

/** What a version without encryption at rest left: a signing key and rotation key in plain text. */
async function storePlainSecrets(store: Store): Promise<{ d: string; kid: string; rotationKey: string }> {
  await store.migrate();
  const record = generateSigningKeyRecord("EdDSA", Date.now() - 60_000);
  await store.insertSigningKey(record);
  const rotationKey = "plain-rotation-key-written-by-an-older-version-0123456789";
  await store.putSettingIfAbsent("refresh_rotation_key", rotationKey);
  const d = (JSON.parse(record.privateJwk) as { d: string }).d;
  return { d, kid: record.kid, rotationKey };
}

const rejectsNaming = (setting: string) => (error: unknown) => {
  assert.ok(isAuthError(error), String(error));
  assert.equal(error.code, "invalid_config");
  assert.match(error.message, new RegExp(setting));
  return true;
};

describe("secrets at rest on SQLite", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "gatehouse-at-rest-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("keeps no private key or rotation key in clear in the database file or its WAL", async () => {
    const path = join(dir, "fresh", "gatehouse.db");
    const auth = await start({ database: `sqlite:${path}` });
    try {
      const raw = rawSqliteSecrets(path);
      assertAllSealed(raw);
      const box = createSecretBox(
        parseKeyEncryptionKey(readFileSync(join(dir, "fresh", SQLITE_KEY_FILE), "utf8"), "file"),
      );
      assert.ok(existsSync(`${path}-wal`), "the write-ahead log is there while the database is open");
      assertNotInBytes(sqliteBytes(path), clearSecrets(raw, box));
    } finally {
      await auth.close();
    }
  });

  it("announces the generated key file, never the key", async () => {
    const folder = join(dir, "announce");
    const auth = await start({ database: `sqlite:${join(folder, "gatehouse.db")}` });
    try {
      const key = readFileSync(join(folder, SQLITE_KEY_FILE), "utf8").trim();
      const line = auth.startupNotes.join("; ");
      assert.match(line, /generated key-encryption key .*key-encryption-key/);
      assert.equal(line.includes(key), false);
    } finally {
      await auth.close();
    }
  });

  it("encrypts keys an older version stored in plain text, once, and leaves no clear copy behind", async () => {
    const path = join(dir, "upgrade", "gatehouse.db");
    const old = openSqliteStore(path);
    const plain = await storePlainSecrets(old);
    await old.close();
    assert.ok(readFileSync(path).includes(plain.d), "the old version's file holds the key in clear");

    const keyEncryptionKey = hexKey();
    const auth = await start({ database: `sqlite:${path}`, keyEncryptionKey });
    try {
      assert.match(auth.startupNotes.join("; "), /encrypted 2 stored secret/);
      assert.equal(auth.keys.signingKey().kid, plain.kid, "the upgraded key still signs");
      assertAllSealed(rawSqliteSecrets(path));
      assertNotInBytes(sqliteBytes(path), [plain.d, plain.rotationKey]);
    } finally {
      await auth.close();
    }
    assertNotInBytes(readFileSync(path), [plain.d, plain.rotationKey]);

    const again = await start({ database: `sqlite:${path}`, keyEncryptionKey });
    try {
      assert.doesNotMatch(again.startupNotes.join("; "), /encrypted/, "nothing left to encrypt");
      assert.equal(again.keys.signingKey().kid, plain.kid);
      const box = createSecretBox(parseKeyEncryptionKey(keyEncryptionKey, "test"));
      assert.deepEqual(clearSecrets(rawSqliteSecrets(path), box), [plain.d, plain.rotationKey]);
    } finally {
      await again.close();
    }
  });

  it("refuses a database copied without its key file, naming KEY_ENCRYPTION_KEY, and writes no new key", async () => {
    const original = join(dir, "original", "gatehouse.db");
    await (await start({ database: `sqlite:${original}` })).close();
    const copy = join(dir, "copy");
    const copied = join(copy, "gatehouse.db");
    mkdirSync(copy);
    copyFileSync(original, copied);

    await assert.rejects(start({ database: `sqlite:${copied}` }), rejectsNaming("KEY_ENCRYPTION_KEY"));
    assert.equal(existsSync(join(copy, SQLITE_KEY_FILE)), false, "no key is generated for a database that has one");
  });

  it("refuses to start with another KEY_ENCRYPTION_KEY, naming it", async () => {
    const path = join(dir, "other-key", "gatehouse.db");
    await (await start({ database: `sqlite:${path}`, keyEncryptionKey: hexKey() })).close();
    await assert.rejects(start({ database: `sqlite:${path}`, keyEncryptionKey: hexKey() }), (error: unknown) => {
      rejectsNaming("KEY_ENCRYPTION_KEY")(error);
      assert.match((error as Error).message, /key id/);
      return true;
    });
  });

  it("refuses a malformed keyEncryptionKey option, naming it, without echoing it", async () => {
    const value = "not-a-key-but-long-enough-to-look-like-one-0123";
    await assert.rejects(start({ database: "sqlite::memory:", keyEncryptionKey: value }), (error: unknown) => {
      rejectsNaming("keyEncryptionKey")(error);
      assert.equal((error as Error).message.includes(value), false);
      return true;
    });
  });
});

describe("secrets at rest on PostgreSQL", () => {
  let db: ThrowawaySchema;
  const keyEncryptionKey = hexKey();
  const box = createSecretBox(parseKeyEncryptionKey(keyEncryptionKey, "test"));
  const open = () => openPostgresStore(db.url, { schema: db.schema });

  before(async () => {
    db = await createThrowawaySchema("gatehouse_at_rest");
  });
  after(async () => {
    await db?.drop();
  });

  it("stores the private key and rotation key sealed in their rows", async () => {
    const auth = await start({ store: open(), keyEncryptionKey });
    try {
      const raw = await rawPostgresSecrets(db);
      assertAllSealed(raw);
      const serialized = JSON.stringify(raw);
      for (const secret of clearSecrets(raw, box)) assert.equal(serialized.includes(secret), false);
    } finally {
      await auth.close();
      await auth.store.close();
    }
  });

  it("refuses another KEY_ENCRYPTION_KEY, naming it", async () => {
    const store = open();
    try {
      await assert.rejects(start({ store, keyEncryptionKey: hexKey() }), rejectsNaming("KEY_ENCRYPTION_KEY"));
    } finally {
      await store.close();
    }
  });

  it("encrypts plain-text keys once when several instances start at once", async () => {
    const upgradeDb = await createThrowawaySchema("gatehouse_at_rest_upgrade");
    const stores: Store[] = [];
    try {
      const old = openPostgresStore(upgradeDb.url, { schema: upgradeDb.schema });
      const plain = await storePlainSecrets(old);
      await old.close();

      for (let i = 0; i < 3; i++) stores.push(openPostgresStore(upgradeDb.url, { schema: upgradeDb.schema }));
      const instances = await Promise.all(stores.map((store) => start({ store, keyEncryptionKey })));
      const notes = instances.map((instance) => instance.startupNotes.join("; "));
      const encrypted = notes.map((note) => Number(/encrypted (\d+) stored secret/.exec(note)?.[1] ?? 0));
      assert.equal(
        encrypted.reduce((sum, count) => sum + count, 0),
        2,
        `each value sealed once: ${notes.join(" | ")}`,
      );
      for (const instance of instances) assert.equal(instance.keys.signingKey().kid, plain.kid);
      await Promise.all(instances.map((instance) => instance.close()));

      const raw = await rawPostgresSecrets(upgradeDb);
      assertAllSealed(raw);
      assert.deepEqual(clearSecrets(raw, box), [plain.d, plain.rotationKey], "each value was sealed once, intact");
    } finally {
      await Promise.all(stores.map((store) => store.close()));
      await upgradeDb.drop();
    }
  });
});
