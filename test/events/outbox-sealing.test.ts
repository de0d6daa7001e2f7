import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import Database from "better-sqlite3";
import { createGatehouse } from "../../src/gatehouse.ts";
import { createLogger } from "../../src/logging/logger.ts";
import { eventually } from "./eventually.ts";

describe("outbox payloads holding a secret, in a real Gatehouse", () => {
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-outbox-sealing-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("are sealed with the key-encryption key (listed for re-encryption) and opened only to deliver", async () => {
    const file = join(dir, "gatehouse.db");
    const auth = await createGatehouse({ database: `sqlite:${file}`, logger: createLogger({ level: "silent" }) });
    try {
      const link = "https://example.com/#reset=very-secret-token-value";
      const id = await auth.store.transaction((tx) =>
        auth.outbox.enqueue(tx, { kind: "mail", payload: { to: "ada@example.com", link }, secret: true }),
      );
      const raw = new Database(file, { readonly: true });
      const { payload } = raw.prepare("SELECT payload FROM outbox WHERE id = ?").get(id) as { payload: string };
      raw.close();
      assert.match(payload, /^ghenc1\./);
      assert.ok(!payload.includes("very-secret") && !payload.includes("ada@"));
      assert.deepEqual(
        (await auth.store.listStoredSecrets()).filter((s) => s.column === "outbox.payload").map((s) => s.id),
        [id],
      );

      const seen: unknown[] = [];
      auth.outboxWorker.register("mail", async (message) => void seen.push(message.payload), { timeoutMs: 1000 });
      await eventually(() => seen.length === 1);
      assert.deepEqual(seen[0], { to: "ada@example.com", link });
    } finally {
      await auth.close();
    }
  });
});
