import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SigningKeyRecord, StoreOps } from "../../src/store/store.ts";
import { createMemoryKeyStore } from "./memory-key-store.ts";

export interface OpenedKeyStore {
  store: StoreOps;
  close(): Promise<void>;
}

export interface KeyStoreKind {
  name: string;
  open(): Promise<OpenedKeyStore>;
}

/** Not imported statically: the SQLite store is written in parallel and may not exist yet. */
const SQLITE_STORE_MODULE = "../../src/store/sqlite/sqlite-store.ts";

/**
 * The stores key-ring tests run against: the real SQLite store when it is present, and the
 * small in-memory stand-in (signing keys and settings only) either way.
 */
export async function keyStoreKinds(): Promise<KeyStoreKind[]> {
  const kinds: KeyStoreKind[] = [{ name: "memory", open: async () => ({ store: createMemoryKeyStore(), close: async () => undefined }) }];
  // Once the file exists, a broken import is a real failure, not a reason to skip.
  if (existsSync(new URL(SQLITE_STORE_MODULE, import.meta.url))) {
    const { SqliteStore } = (await import(SQLITE_STORE_MODULE)) as { SqliteStore: { open(path: string): unknown } };
    kinds.push({
      name: "sqlite",
      open: async () => {
        const dir = mkdtempSync(join(tmpdir(), "gatehouse-keys-"));
        const store = (await SqliteStore.open(join(dir, "keys.db"))) as StoreOps & { migrate(): Promise<void>; close(): Promise<void> };
        await store.migrate();
        return {
          store,
          close: async () => {
            await store.close();
            rmSync(dir, { recursive: true, force: true });
          },
        };
      },
    });
  }
  return kinds;
}

/** The stored record for `kid` (fails the test when missing). */
export async function recordOf(store: StoreOps, kid: string): Promise<SigningKeyRecord> {
  const record = (await store.listSigningKeys()).find((candidate) => candidate.kid === kid);
  if (record === undefined) throw new Error(`no stored key ${kid}`);
  return record;
}
