import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import { resolveKeyEncryptionKey } from "../../src/core/crypto/key-encryption-key-source.ts";
import { generateKeyEncryptionKey, keyIdOf } from "../../src/core/crypto/secret-box.ts";
import { AuthError } from "../../src/core/errors.ts";
import {
  createPrivateFileIfAbsent,
  ensurePrivateDir,
  looseModeOf,
  writePrivateFile,
} from "../../src/core/private-files.ts";
import { keyFileFor } from "../../src/store/open-store.ts";

const run = promisify(execFile);
const modeOf = (path: string): number => statSync(path).mode & 0o777;
const posix = process.platform !== "win32";
const none = new Set<string>();

describe("private files", { skip: !posix && "POSIX modes only" }, () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "gatehouse-private-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("ensurePrivateDir creates missing directories 0700 and leaves an existing one alone", () => {
    const nested = join(dir, "a", "b");
    assert.equal(ensurePrivateDir(nested), true);
    assert.equal(modeOf(join(dir, "a")), 0o700);
    assert.equal(modeOf(nested), 0o700);
    chmodSync(nested, 0o750);
    assert.equal(ensurePrivateDir(nested), false);
    assert.equal(modeOf(nested), 0o750);
  });

  it("writePrivateFile writes 0600, replaces atomically and leaves no temporary file", () => {
    const file = join(dir, "outbox", "message.eml");
    writePrivateFile(file, "first");
    assert.equal(modeOf(join(dir, "outbox")), 0o700);
    assert.equal(modeOf(file), 0o600);
    writePrivateFile(file, Buffer.from("second"));
    assert.equal(readFileSync(file, "utf8"), "second");
    assert.equal(modeOf(file), 0o600);
    assert.deepEqual(readdirSync(join(dir, "outbox")), ["message.eml"]);
  });

  it("createPrivateFileIfAbsent writes once and never replaces", () => {
    const file = join(dir, "once");
    assert.equal(createPrivateFileIfAbsent(file, "one"), true);
    assert.equal(createPrivateFileIfAbsent(file, "two"), false);
    assert.equal(readFileSync(file, "utf8"), "one");
    assert.equal(modeOf(file), 0o600);
    assert.deepEqual(
      readdirSync(dir).filter((name) => name.includes("once")),
      ["once"],
    );
  });

  it("looseModeOf reports group or other access, and nothing for 0600 or a missing file", () => {
    const file = join(dir, "loose");
    writeFileSync(file, "x", { mode: 0o600 });
    assert.equal(looseModeOf(file), undefined);
    chmodSync(file, 0o644);
    assert.equal(looseModeOf(file), 0o644);
    assert.equal(looseModeOf(join(dir, "missing")), undefined);
  });
});

describe("where the key-encryption key comes from", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "gatehouse-kek-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("lives next to a SQLite file, in ./data for PostgreSQL, and nowhere for an in-memory database", () => {
    assert.equal(keyFileFor("sqlite:/srv/app/db/gatehouse.db"), "/srv/app/db/key-encryption-key");
    assert.equal(keyFileFor("/srv/app/x.sqlite"), "/srv/app/key-encryption-key");
    assert.equal(keyFileFor("postgres://u:p@db/app"), join(process.cwd(), "data", "key-encryption-key"));
    assert.equal(keyFileFor("sqlite::memory:"), undefined);
  });

  it("prefers the setting, and never touches the file then", () => {
    const key = generateKeyEncryptionKey();
    const file = join(dir, "unused", "key-encryption-key");
    const source = resolveKeyEncryptionKey({ setting: key.toString("base64"), file, sealedWith: none });
    assert.deepEqual(source, { key, origin: "setting" });
    assert.equal(existsSync(file), false);
  });

  it("generates the file on the first start and reads it afterwards", { skip: !posix }, () => {
    const file = join(dir, "first", "key-encryption-key");
    const first = resolveKeyEncryptionKey({ setting: undefined, file, sealedWith: none });
    assert.equal(first.origin, "generated");
    assert.equal(modeOf(file), 0o600);
    assert.equal(modeOf(join(dir, "first")), 0o700);
    assert.match(readFileSync(file, "utf8"), /^[0-9a-f]{64}\n$/);
    const second = resolveKeyEncryptionKey({ setting: undefined, file, sealedWith: new Set([keyIdOf(first.key)]) });
    assert.equal(second.origin, "file");
    assert.deepEqual(second.key, first.key);
    chmodSync(file, 0o644);
    assert.equal(resolveKeyEncryptionKey({ setting: undefined, file, sealedWith: none }).looseMode, 0o644);
  });

  it("refuses to generate a key for a database whose secrets are sealed, naming KEY_ENCRYPTION_KEY", () => {
    const file = join(dir, "copied", "key-encryption-key");
    assert.throws(
      () => resolveKeyEncryptionKey({ setting: undefined, file, sealedWith: new Set(["abcdefghijk"]) }),
      (error: unknown) =>
        error instanceof AuthError &&
        error.code === "invalid_config" &&
        /KEY_ENCRYPTION_KEY.*abcdefghijk/.test(error.message),
    );
    assert.equal(existsSync(file), false);
  });

  it("names the file when it holds no key", () => {
    const file = join(dir, "bad-key-file");
    writeFileSync(file, "not a key\n", { mode: 0o600 });
    assert.throws(
      () => resolveKeyEncryptionKey({ setting: undefined, file, sealedWith: none }),
      (error: unknown) => error instanceof AuthError && error.message.startsWith(`The key-encryption key file ${file}`),
    );
  });

  it("gives processes starting at once the same key", async () => {
    const file = join(dir, "race", "key-encryption-key");
    const source = new URL("../../src/core/crypto/key-encryption-key-source.ts", import.meta.url).href;
    const script =
      `const { resolveKeyEncryptionKey } = await import(${JSON.stringify(source)});` +
      `const s = resolveKeyEncryptionKey({ setting: undefined, file: process.argv[1], sealedWith: new Set() });` +
      `console.log(s.key.toString("hex"), s.origin);`;
    const outputs = await Promise.all(
      Array.from({ length: 4 }, () =>
        run(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script, file], { timeout: 60_000 }),
      ),
    );
    const answers = outputs.map(({ stdout }) => stdout.trim().split(" "));
    assert.equal(new Set(answers.map(([key]) => key)).size, 1, "one key for all");
    assert.equal(answers.filter(([, origin]) => origin === "generated").length, 1, "generated once");
    assert.equal(readFileSync(file, "utf8").trim(), answers[0]![0]);
    assert.deepEqual(readdirSync(join(dir, "race")), ["key-encryption-key"]);
  });
});
