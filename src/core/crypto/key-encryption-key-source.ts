import { existsSync, readFileSync } from "node:fs";
import { AuthError } from "../errors.ts";
import { createPrivateFileIfAbsent, looseModeOf } from "../private-files.ts";
import { formatKeyEncryptionKey, parseKeyEncryptionKey } from "./key-encryption-key.ts";
import { generateKeyEncryptionKey } from "./secret-box.ts";

/** Where the key-encryption key in use came from. */
export type KeyOrigin =
  /** KEY_ENCRYPTION_KEY (environment or the `keyEncryptionKey` option). */
  | "setting"
  /** The key file, written by an earlier start. */
  | "file"
  /** The key file, written just now by this start. */
  | "generated"
  /** A key for an in-memory database: it lives and dies with the process. */
  | "memory";

export interface KeyEncryptionKeySource {
  key: Buffer;
  origin: KeyOrigin;
  /** The key file, for origins "file" and "generated". */
  file?: string;
  /** Group/other permission bits the key file has (it should have none). */
  looseMode?: number;
}

export interface ResolveKeyOptions {
  /** The configured KEY_ENCRYPTION_KEY, if any. */
  setting: string | undefined;
  /** The key file to use without the setting; undefined for an in-memory database. */
  file: string | undefined;
  /**
   * Ids of the keys the database's secrets are sealed with. A key is never generated for a
   * database that already holds sealed secrets: it could not open them.
   */
  sealedWith: ReadonlySet<string>;
}

/**
 * The key-encryption key: the setting when given, else the key file next to the database,
 * created (0600, atomically, once even when instances start together) on the first start.
 *
 * @throws AuthError("invalid_config") naming KEY_ENCRYPTION_KEY or the file when the value is
 * not a key, or when the file is missing but the database holds secrets sealed with a key.
 */
export function resolveKeyEncryptionKey(options: ResolveKeyOptions): KeyEncryptionKeySource {
  const { setting, file, sealedWith } = options;
  if (setting !== undefined) return { key: parseKeyEncryptionKey(setting, "KEY_ENCRYPTION_KEY"), origin: "setting" };
  if (file === undefined) return { key: generateKeyEncryptionKey(), origin: "memory" };
  if (!existsSync(file)) {
    if (sealedWith.size > 0) {
      throw new AuthError(
        "invalid_config",
        `KEY_ENCRYPTION_KEY is not set and the key file ${file} does not exist, but the database holds secrets ` +
          `encrypted with key id ${[...sealedWith].join(", ")}. Set KEY_ENCRYPTION_KEY to that key or put its ` +
          "key-encryption-key file back; without it the stored secrets cannot be used.",
      );
    }
    if (createPrivateFileIfAbsent(file, formatKeyEncryptionKey(generateKeyEncryptionKey()))) {
      return { key: readKeyFile(file), origin: "generated", file };
    }
    // Another instance created it first: use theirs.
  }
  const looseMode = looseModeOf(file);
  return { key: readKeyFile(file), origin: "file", file, ...(looseMode === undefined ? {} : { looseMode }) };
}

/** Reads and checks a key file. */
export function readKeyFile(file: string): Buffer {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (cause) {
    throw new AuthError(
      "invalid_config",
      `The key-encryption key file ${file} cannot be read (${(cause as NodeJS.ErrnoException).code ?? "error"}). ` +
        "Check its owner and mode (0600), or set KEY_ENCRYPTION_KEY.",
      { cause },
    );
  }
  return parseKeyEncryptionKey(text, `The key-encryption key file ${file}`);
}

/** How the source is described in messages and the start-up line (never the key). */
export function describeKeySource(source: KeyEncryptionKeySource): string {
  switch (source.origin) {
    case "setting":
      return "KEY_ENCRYPTION_KEY";
    case "memory":
      return "a key kept in memory for the in-memory database";
    default:
      return `the key file ${source.file}`;
  }
}
