import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { afterEach, beforeEach, describe, it } from "node:test";
import { ManualClock } from "../../src/core/clock.ts";
import { RevocationList, type RevocationListOptions } from "../../src/core/revocation/revocation-list.ts";
import type { SqlStore } from "../../src/store/sql/sql-store.ts";
import { openSqliteStore } from "../../src/store/sqlite/driver.ts";
import { makeSession } from "../store/contract.ts";

/**
 * The revocation list's rules, driven step by step: it answers from memory only while it can
 * vouch for being complete (connected, caught up, recently confirmed by the feed), and says
 * "ask the database" (undefined) otherwise. Catch-up reads a real SQLite store.
 */
describe("RevocationList", () => {
  const MINUTE = 60_000;
  const TOKEN_WINDOW = 15 * MINUTE + MINUTE;
  let store: SqlStore;
  let clock: ManualClock;
  let monotonic: number;
  const lists: RevocationList[] = [];

  beforeEach(async () => {
    store = openSqliteStore(":memory:");
    await store.migrate();
    clock = new ManualClock();
    monotonic = 0;
  });
  afterEach(async () => {
    for (const list of lists.splice(0)) list.close();
    await store.close();
  });

  const newList = (options: Partial<RevocationListOptions> = {}) => {
    const list = new RevocationList(store, {
      clock,
      tokenWindowMs: TOKEN_WINDOW,
      monotonicNow: () => monotonic,
      ...options,
    });
    lists.push(list);
    return list;
  };
  const endedSession = async (minutesAgo: number) => {
    const session = makeSession("u1");
    await store.insertSession(session);
    await store.endSession(session.id, clock.now() - minutesAgo * MINUTE, "logout");
    return session.id;
  };
  const live = async (list: RevocationList) => {
    list.connected();
    assert.equal(await list.whenLive(5000), true);
  };

  it("says nothing until connected and caught up; the catch-up reads every session whose tokens may live", async () => {
    const recent = await endedSession(5);
    const edge = await endedSession(16);
    const old = await endedSession(18);
    const list = newList({ pageSize: 2 });
    assert.equal(list.check(recent), undefined, "not connected yet");
    list.connected();
    assert.equal(list.check(recent), undefined, "catching up");
    assert.equal(await list.whenLive(5000), true);
    assert.equal(list.check(recent), true);
    assert.equal(list.check(edge), true, "within the token window plus margin");
    assert.equal(list.check(old), false, "ended before any of its tokens could still be alive: not needed");
    assert.equal(list.check(randomUUID()), false);
    assert.deepEqual(
      { phase: list.status().phase, entries: list.status().entries, catchUps: list.status().catchUps },
      { phase: "live", entries: 2, catchUps: 1 },
    );
  });

  it("adds what the feed delivers, and stops answering when the feed is lost", async () => {
    const list = newList();
    await live(list);
    const id = randomUUID();
    list.change({ kind: "session_ended", sessionId: id, endedAt: clock.now() });
    assert.equal(list.check(id), true);
    list.lost(new Error("connection reset"));
    assert.equal(list.check(id), undefined);
    assert.equal(list.check(randomUUID()), undefined, "nothing is vouched for while the feed is down");
    assert.equal(list.status().phase, "down");
  });

  it("after a reconnection, catches up on what ended while the feed was down", async () => {
    const list = newList();
    await live(list);
    list.synced(monotonic);
    list.lost(new Error("failover"));
    clock.advance(3 * MINUTE);
    const missed = await endedSession(1);
    await live(list);
    assert.equal(list.check(missed), true);
    assert.equal(list.status().catchUps, 2);
  });

  it("a feed that goes silent stops being trusted once its lease runs out; a heartbeat renews it", async () => {
    const list = newList({ leaseMs: 1000 });
    await live(list);
    const id = randomUUID();
    assert.equal(list.check(id), false);
    monotonic = 999;
    assert.equal(list.check(id), false);
    list.synced(500);
    monotonic = 1400;
    assert.equal(list.check(id), false, "renewed until 1500");
    monotonic = 1500;
    assert.equal(list.check(id), undefined, "no proof since 500 ms: maybe a dead connection");
    list.synced(1490);
    assert.equal(list.check(id), false);
  });

  it("a catch-up overtaken by a loss does not declare the list live", async () => {
    await endedSession(1);
    const list = newList();
    list.connected();
    list.lost(new Error("dropped during catch-up"));
    assert.equal(await list.whenLive(300), false);
    assert.equal(list.status().phase, "down");
    assert.equal(list.check(randomUUID()), undefined);
  });

  it("forgets a session once its last token has expired (token window + margin)", async () => {
    const list = newList({ marginMs: MINUTE });
    await live(list);
    const id = randomUUID();
    list.change({ kind: "session_ended", sessionId: id, endedAt: clock.now() });
    clock.advance(TOKEN_WINDOW + MINUTE - 1);
    list.sweep();
    assert.equal(list.status().entries, 1);
    clock.advance(1);
    list.sweep();
    assert.equal(list.status().entries, 0);
  });

  it("past its capacity it answers nothing rather than forget a session too early", async () => {
    const list = newList({ maxEntries: 2 });
    await live(list);
    for (let n = 0; n < 3; n++) list.change({ kind: "session_ended", sessionId: `s${n}`, endedAt: clock.now() });
    assert.equal(list.check("s0"), undefined);
    assert.equal(list.status().answersFromMemory, false);
  });

  it("a failed catch-up is retried, and the list answers only once it succeeds", async () => {
    const closed = openSqliteStore(":memory:");
    await closed.close();
    let calls = 0;
    // The first catch-up query meets a database that is down, the retry one that works.
    const flaky = {
      listEndedSessions: (...args: Parameters<SqlStore["listEndedSessions"]>) =>
        (calls++ === 0 ? closed : store).listEndedSessions(...args),
    };
    const errors: unknown[] = [];
    const list = new RevocationList(flaky, {
      clock,
      tokenWindowMs: TOKEN_WINDOW,
      monotonicNow: () => monotonic,
      onError: (error) => errors.push(error),
    });
    lists.push(list);
    list.connected();
    assert.equal(list.check(randomUUID()), undefined);
    assert.equal(await list.whenLive(5000), true);
    assert.equal(calls, 2);
    assert.equal((errors[0] as { code?: string }).code, "unavailable");
  });
});
