import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { after, afterEach, describe, it } from "node:test";
import type { SessionRecord, Store } from "../../src/core/store/store.ts";
import { openPostgresStore } from "../../src/store/postgres/driver.ts";
import { openSqliteStore } from "../../src/store/sqlite/driver.ts";
import { createThrowawaySchema, type ThrowawaySchema } from "../helpers/postgres-schema.ts";
import { STORES } from "./servers.ts";

/** The store statements behind the session limits, on both databases: paging, the cap, pruning. */
const T0 = Date.UTC(2031, 2, 3);
const HOUR = 3_600_000;

function session(userId: string, createdAt: number, overrides: Partial<SessionRecord> = {}): SessionRecord {
  return {
    id: randomUUID(),
    userId,
    createdAt,
    lastUsedAt: createdAt,
    absoluteExpiresAt: createdAt + 24 * HOUR,
    idleExpiresAt: createdAt + 12 * HOUR,
    endedAt: null,
    endReason: null,
    userAgent: null,
    ip: null,
    ...overrides,
  };
}

const ids = (sessions: readonly SessionRecord[]) => sessions.map((s) => s.id);

for (const kind of STORES) {
  describe(`session limit statements (${kind})`, () => {
    const schemas: ThrowawaySchema[] = [];
    const stores: Store[] = [];
    const fresh = async (): Promise<Store> => {
      let store: Store;
      if (kind === "postgres") {
        const schema = await createThrowawaySchema("gatehouse_limits_store");
        schemas.push(schema);
        store = openPostgresStore(schema.url, { schema: schema.schema });
      } else {
        store = openSqliteStore(":memory:");
      }
      stores.push(store);
      await store.migrate();
      return store;
    };
    afterEach(async () => {
      for (const store of stores.splice(0)) await store.close();
    });
    after(async () => {
      for (const schema of schemas) await schema.drop();
    });

    it("listLiveSessionsPage pages newest first, ties broken by id, with nothing lost or repeated", async () => {
      const store = await fresh();
      const all: SessionRecord[] = [];
      // Five sessions share one millisecond: the cursor must still move past each exactly once.
      for (let i = 0; i < 5; i++) all.push(session("u1", T0 + HOUR));
      for (let i = 0; i < 4; i++) all.push(session("u1", T0 + i));
      const ended = session("u1", T0 + 2 * HOUR, { endedAt: T0 + 2 * HOUR, endReason: "logout" });
      const expired = session("u1", T0 + 3 * HOUR, { idleExpiresAt: T0 + 3 * HOUR + 1 });
      const someoneElse = session("u2", T0 + HOUR);
      for (const s of [...all, ended, expired, someoneElse]) await store.insertSession(s);

      const now = T0 + 4 * HOUR;
      const everything = await store.listLiveSessions("u1", now);
      assert.deepEqual(new Set(ids(everything)), new Set(ids(all)));

      const paged: SessionRecord[] = [];
      let cursor: { createdAt: number; id: string } | null = null;
      for (let pages = 0; pages < 10; pages++) {
        const page: SessionRecord[] = await store.listLiveSessionsPage("u1", now, 2, cursor);
        assert.ok(page.length <= 2);
        paged.push(...page);
        const last = page.at(-1);
        if (page.length < 2 || !last) break;
        cursor = { createdAt: last.createdAt, id: last.id };
      }
      assert.deepEqual(ids(paged), ids(everything), "pages concatenate to the whole list, in its order");
      assert.deepEqual(paged, everything);
      assert.deepEqual(await store.listLiveSessionsPage("u1", now, 100, null), everything);
      assert.deepEqual(await store.listLiveSessionsPage("nobody", now, 10, null), []);
    });

    it("listLiveSessionIdsBeyond names the live sessions older than the newest `keep`", async () => {
      const store = await fresh();
      const sessions = Array.from({ length: 6 }, (_, i) => session("u1", T0 + i * 1000));
      for (const s of sessions) await store.insertSession(s);
      await store.insertSession(session("u1", T0 - 1000, { endedAt: T0, endReason: "logout" }));
      const now = T0 + HOUR;
      const beyond = await store.listLiveSessionIdsBeyond("u1", now, 4);
      assert.deepEqual(new Set(beyond), new Set(ids(sessions.slice(0, 2))), "the two oldest live ones");
      assert.deepEqual(await store.listLiveSessionIdsBeyond("u1", now, 6), []);
      assert.deepEqual(await store.listLiveSessionIdsBeyond("u1", now, 100), []);
      assert.equal((await store.listLiveSessionIdsBeyond("u1", now, 1)).length, 5);
    });

    it("lockUserSessions (the user's row) serializes concurrent session starts of one user", async () => {
      const store = await fresh();
      const keep = 3;
      await store.insertUser({
        id: "u1",
        username: "locked-user",
        passwordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo",
        createdAt: T0,
        disabledAt: null,
        roles: [],
      });
      // Each transaction: lock, insert, end what is beyond the cap. Run 12 at once.
      await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          store.transaction(async (tx) => {
            await tx.lockUserSessions("u1");
            await tx.insertSession(session("u1", T0 + i));
            // Widens the race: without the lock, the others' inserts land while this one counts.
            await sleep(20);
            for (const id of await tx.listLiveSessionIdsBeyond("u1", T0 + HOUR, keep)) {
              await tx.endSession(id, T0 + HOUR, "session_limit");
            }
          }),
        ),
      );
      assert.equal((await store.listLiveSessions("u1", T0 + HOUR)).length, keep);
    });

    it("pruneSessions removes every old row even when there are more than one batch", async () => {
      const store = await fresh();
      const cutoff = T0 + 100 * HOUR;
      const old = Array.from({ length: 2_100 }, (_, i) =>
        session("u1", T0 + i, { endedAt: T0 + HOUR, endReason: "logout" }),
      );
      const kept = session("u1", cutoff, { endedAt: cutoff + 1, endReason: "logout" });
      await store.transaction(async (tx) => {
        for (const s of [...old, kept]) await tx.insertSession(s);
      });
      assert.equal(await store.pruneSessions(cutoff), old.length);
      assert.deepEqual(await store.findSession(kept.id), kept);
      assert.equal(await store.findSession(old[0]!.id), null);
      assert.equal(await store.pruneSessions(cutoff), 0);
    });
  });
}
