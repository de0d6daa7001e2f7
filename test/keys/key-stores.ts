import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SigningKeyRecord, StoreOps } from "../../src/core/store/store.ts";
import { openSqliteStore } from "../../src/store/sqlite/driver.ts";
import { createMemoryKeyStore } from "./memory-key-store.ts";

export interface OpenedKeyStore {
  store: StoreOps;
  close(): Promise<void>;
}

export interface KeyStoreKind {
  name: string;
  open(): Promise<OpenedKeyStore>;
}

/** The stores key-ring tests run against: the real SQLite store, and an in-memory stand-in (keys and settings only). */
export async function keyStoreKinds(): Promise<KeyStoreKind[]> {
  return [
    { name: "memory", open: async () => ({ store: createMemoryKeyStore(), close: async () => undefined }) },
    {
      name: "sqlite",
      open: async () => {
        const dir = mkdtempSync(join(tmpdir(), "gatehouse-keys-"));
        const store = openSqliteStore(join(dir, "keys.db"));
        await store.migrate();
        return {
          store,
          close: async () => {
            await store.close();
            rmSync(dir, { recursive: true, force: true });
          },
        };
      },
    },
  ];
}

/** The stored record for `kid` (fails the test when missing). */
export async function recordOf(store: StoreOps, kid: string): Promise<SigningKeyRecord> {
  const record = (await store.listSigningKeys()).find((candidate) => candidate.kid === kid);
  if (record === undefined) throw new Error(`no stored key ${kid}`);
  return record;
}
