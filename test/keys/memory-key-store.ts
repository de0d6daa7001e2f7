import type { SigningKeyRecord, StoreOps } from "../../src/core/store/store.ts";

type KeyMethods = Pick<
  StoreOps,
  "listSigningKeys" | "insertSigningKey" | "updateSigningKey" | "getSetting" | "putSettingIfAbsent"
>;

/**
 * A minimal StoreOps for key-ring tests (run alongside the real SQLite store): only the
 * signing-key and settings methods work, with the real contract (duplicate kids fail, first
 * setting writer wins); every other method throws. Each call yields to the event loop so
 * concurrent loads interleave as they would against a database.
 */
export function createMemoryKeyStore(): StoreOps & {
  records: Map<string, SigningKeyRecord>;
  settings: Map<string, string>;
} {
  const records = new Map<string, SigningKeyRecord>();
  const settings = new Map<string, string>();
  const tick = () => new Promise<void>((resolve) => setImmediate(resolve));
  const supported: KeyMethods & { records: typeof records; settings: typeof settings } = {
    records,
    settings,
    async listSigningKeys() {
      await tick();
      return [...records.values()].map((record) => ({ ...record }));
    },
    async insertSigningKey(key) {
      await tick();
      if (records.has(key.kid)) throw new Error(`duplicate kid ${key.kid}`);
      records.set(key.kid, { ...key });
    },
    async updateSigningKey(kid, changes) {
      await tick();
      const record = records.get(kid);
      if (record === undefined) return;
      if (changes.retiredAt !== undefined) record.retiredAt = changes.retiredAt;
      if (changes.expiresAt !== undefined) record.expiresAt = changes.expiresAt;
    },
    async getSetting(name) {
      await tick();
      return settings.get(name) ?? null;
    },
    async putSettingIfAbsent(name, value) {
      await tick();
      if (!settings.has(name)) settings.set(name, value);
      return settings.get(name)!;
    },
  };
  // Every other StoreOps method throws, whatever the interface grows to ("then" stays absent: not a thenable).
  return new Proxy(supported, {
    get(target, property, receiver) {
      if (typeof property !== "string" || property === "then" || property in target)
        return Reflect.get(target, property, receiver);
      return () => {
        throw new Error(`${property} is not used by key-ring tests`);
      };
    },
  }) as unknown as StoreOps & { records: typeof records; settings: typeof settings };
}
