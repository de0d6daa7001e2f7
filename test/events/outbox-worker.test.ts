import assert from "node:assert/strict";
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, describe, it } from "node:test";
import { systemClock } from "../../src/core/clock.ts";
import { PermanentDeliveryError } from "../../src/core/outbox/delivery-errors.ts";
import { Outbox, type OutboxDelivery, type PayloadSealer } from "../../src/core/outbox/outbox.ts";
import { type OutboxHandler, OutboxWorker } from "../../src/core/outbox/outbox-worker.ts";
import type { RetryPolicy } from "../../src/core/outbox/retry-policy.ts";
import type { Store } from "../../src/core/store/store.ts";
import { openPostgresStore } from "../../src/store/postgres/driver.ts";
import type { SqlStore } from "../../src/store/sql/sql-store.ts";
import { openSqliteStore } from "../../src/store/sqlite/driver.ts";
import { createThrowawaySchema, type ThrowawaySchema } from "../helpers/postgres-schema.ts";
import { eventually } from "./eventually.ts";

/** Short waits so retries happen within a test; the policy's shape is what is tested. */
const FAST_RETRY: RetryPolicy = { baseDelayMs: 20, maxDelayMs: 80, maxAttempts: 4 };
const quietLog = {
  warnings: [] as string[],
  warn(_fields: object, message: string) {
    this.warnings.push(message);
  },
};

/** AES-256-GCM with the context as associated data: the shape the SecretBox has. */
function testSealer(): PayloadSealer {
  const key = randomBytes(32);
  return {
    seal(plaintext, context) {
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", key, iv).setAAD(Buffer.from(context));
      const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final(), cipher.getAuthTag()]);
      return `test1.${iv.toString("base64url")}.${body.toString("base64url")}`;
    },
    open(sealed, context) {
      const [, iv, body] = sealed.split(".");
      const bytes = Buffer.from(body!, "base64url");
      const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv!, "base64url")).setAAD(Buffer.from(context));
      decipher.setAuthTag(bytes.subarray(bytes.length - 16));
      return Buffer.concat([decipher.update(bytes.subarray(0, bytes.length - 16)), decipher.final()]).toString("utf8");
    },
  };
}

interface Rig {
  store: Store;
  outbox: Outbox;
  worker: OutboxWorker;
}

const dirs: string[] = [];
const schemas: ThrowawaySchema[] = [];
after(async () => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  for (const schema of schemas) await schema.drop();
});

const databases: [string, () => Promise<SqlStore>][] = [
  [
    "SQLite",
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "gatehouse-outbox-"));
      dirs.push(dir);
      return openSqliteStore(join(dir, "gatehouse.db"));
    },
  ],
  [
    "PostgreSQL",
    async () => {
      const db = await createThrowawaySchema("gatehouse_outbox");
      schemas.push(db);
      return openPostgresStore(db.url, { schema: db.schema });
    },
  ],
];

for (const [name, openDatabase] of databases) {
  describe(`outbox worker on ${name}`, () => {
    const running: { worker: OutboxWorker; store: Store }[] = [];
    afterEach(async () => {
      for (const { worker, store } of running.splice(0)) {
        await worker.stop();
        await store.close();
      }
    });

    async function rig(
      options: { sealer?: PayloadSealer; retry?: RetryPolicy; idlePollMs?: number } = {},
    ): Promise<Rig> {
      const store = await openDatabase();
      await store.migrate();
      const outbox = new Outbox({ clock: systemClock, sealer: options.sealer });
      const worker = new OutboxWorker({
        store,
        outbox,
        clock: systemClock,
        retry: options.retry ?? FAST_RETRY,
        log: quietLog,
        idlePollMs: options.idlePollMs ?? 50,
      });
      running.push({ worker, store });
      return { store, outbox, worker };
    }

    const enqueue = (r: Rig, payload: Record<string, unknown>, secret = false) =>
      r.store.transaction((tx) => r.outbox.enqueue(tx, { kind: "webhook", payload, secret }));

    it("delivers a message once its transaction commits, and records the delivery", async () => {
      // A long idle poll: only the wake after commit can make this delivery prompt.
      const r = await rig({ idlePollMs: 60_000 });
      const seen: OutboxDelivery[] = [];
      r.worker.register("webhook", async (message) => void seen.push(message), { timeoutMs: 1000 });
      r.worker.start();
      await new Promise((resolve) => setTimeout(resolve, 100));
      const id = await enqueue(r, { hello: "world" });
      await eventually(() => seen.length === 1, 5000);
      assert.deepEqual(seen[0], {
        id,
        kind: "webhook",
        payload: { hello: "world" },
        attempt: 1,
        createdAt: seen[0]!.createdAt,
      });
      await eventually(async () => (await r.store.findOutboxMessage(id))?.deliveredAt !== null);
      assert.equal(await r.store.countOutboxBacklog(), 0);
    });

    it("retries a failing delivery with backoff, with the same id every time, until it succeeds", async () => {
      const r = await rig();
      const attempts: { id: string; attempt: number; at: number }[] = [];
      r.worker.register(
        "webhook",
        async (message) => {
          attempts.push({ id: message.id, attempt: message.attempt, at: Date.now() });
          if (message.attempt < 3) throw new Error(`HTTP 503 on attempt ${message.attempt}`);
        },
        { timeoutMs: 1000 },
      );
      r.worker.start();
      const id = await enqueue(r, { n: 1 });
      await eventually(async () => (await r.store.findOutboxMessage(id))?.deliveredAt !== null);
      assert.deepEqual(
        attempts.map((a) => [a.id, a.attempt]),
        [
          [id, 1],
          [id, 2],
          [id, 3],
        ],
      );
      // Each wait is at least half the policy's delay for that attempt (equal jitter).
      assert.ok(attempts[1]!.at - attempts[0]!.at >= FAST_RETRY.baseDelayMs / 2);
      assert.ok(attempts[2]!.at - attempts[1]!.at >= FAST_RETRY.baseDelayMs);
      const stored = await r.store.findOutboxMessage(id);
      assert.equal(stored?.attempts, 3);
      assert.equal(stored?.lastError, null, "a delivery clears the last error");
    });

    it("gives up after the last allowed attempt: the message is dead and never tried again", async () => {
      const r = await rig();
      let calls = 0;
      r.worker.register(
        "webhook",
        async () => {
          calls++;
          throw new Error("connect ECONNREFUSED");
        },
        { timeoutMs: 1000 },
      );
      r.worker.start();
      const id = await enqueue(r, { n: 1 });
      await eventually(async () => (await r.store.findOutboxMessage(id))?.deadAt !== null);
      const dead = await r.store.findOutboxMessage(id);
      assert.equal(dead?.attempts, FAST_RETRY.maxAttempts);
      assert.equal(dead?.lastError, "connect ECONNREFUSED");
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(calls, FAST_RETRY.maxAttempts);
      assert.equal(await r.store.countOutboxBacklog(), 0);
    });

    it("a permanent failure is dead at once", async () => {
      const r = await rig();
      let calls = 0;
      r.worker.register(
        "webhook",
        async () => {
          calls++;
          throw new PermanentDeliveryError("HTTP 410: the receiver is gone");
        },
        { timeoutMs: 1000 },
      );
      r.worker.start();
      const id = await enqueue(r, { n: 1 });
      await eventually(async () => (await r.store.findOutboxMessage(id))?.deadAt !== null);
      assert.equal(calls, 1);
      assert.equal((await r.store.findOutboxMessage(id))?.lastError, "HTTP 410: the receiver is gone");
    });

    it("abandons an attempt that outlasts its timeout (aborting its signal) and tries again", async () => {
      const r = await rig();
      const aborted: boolean[] = [];
      r.worker.register(
        "webhook",
        (message, signal) => {
          if (message.attempt > 1) return Promise.resolve();
          return new Promise((_resolve, reject) => {
            signal.addEventListener("abort", () => {
              aborted.push(true);
              reject(signal.reason);
            });
          });
        },
        { timeoutMs: 100 },
      );
      r.worker.start();
      const id = await enqueue(r, { n: 1 });
      await eventually(async () => (await r.store.findOutboxMessage(id))?.deliveredAt !== null);
      assert.deepEqual(aborted, [true]);
      assert.equal((await r.store.findOutboxMessage(id))?.attempts, 2);
    });

    it("takes over a message whose worker died mid-delivery once its lease runs out", async () => {
      const r = await rig();
      const id = await enqueue(r, { n: 1 });
      // A worker claims it and dies: its lease (here 300 ms) keeps others away until it runs out.
      const now = Date.now();
      const [claimed] = await r.store.claimOutboxMessages({ kind: "webhook", now, leaseUntil: now + 300, limit: 1 });
      assert.equal(claimed?.id, id);
      const seen: { attempt: number; at: number }[] = [];
      r.worker.register("webhook", async (message) => void seen.push({ attempt: message.attempt, at: Date.now() }), {
        timeoutMs: 1000,
      });
      r.worker.start();
      await eventually(() => seen.length === 1);
      assert.equal(seen[0]!.attempt, 2, "the dead worker's attempt counts");
      assert.ok(seen[0]!.at >= now + 300, "not before the lease ran out");
    });

    it("polls nothing until a handler is registered, and delivers from then on", async () => {
      const r = await rig();
      let claims = 0;
      const counted = new Proxy(r.store, {
        get: (target, prop) => {
          if (prop === "claimOutboxMessages") claims++;
          const value = Reflect.get(target, prop) as unknown;
          return typeof value === "function" ? value.bind(target) : value;
        },
      });
      const seen: string[] = [];
      const worker = new OutboxWorker({
        store: counted,
        outbox: r.outbox,
        clock: systemClock,
        retry: FAST_RETRY,
        log: quietLog,
        idlePollMs: 20,
      });
      running.push({ worker, store: r.store });
      worker.start();
      const id = await enqueue(r, { n: 1 });
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(claims, 0);
      worker.register("webhook", async (message) => void seen.push(message.id), { timeoutMs: 1000 });
      await eventually(() => seen.length === 1);
      assert.deepEqual(seen, [id]);
    });

    it("leaves messages of kinds it has no handler for", async () => {
      const r = await rig();
      r.worker.register("webhook", async () => undefined, { timeoutMs: 1000 });
      r.worker.start();
      const id = await r.store.transaction((tx) => r.outbox.enqueue(tx, { kind: "mail", payload: { to: "x" } }));
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal((await r.store.findOutboxMessage(id))?.attempts, 0);
    });

    it("stop() waits for the attempt in flight, records it, and claims nothing more", async () => {
      const r = await rig();
      let release!: () => void;
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      let started = 0;
      r.worker.register(
        "webhook",
        async () => {
          started++;
          await gate;
        },
        { timeoutMs: 5000 },
      );
      r.worker.start();
      const first = await enqueue(r, { n: 1 });
      await eventually(() => started === 1);
      const stopped = r.worker.stop();
      const second = await enqueue(r, { n: 2 });
      setTimeout(release, 100);
      await stopped;
      assert.notEqual((await r.store.findOutboxMessage(first))?.deliveredAt, null);
      assert.equal((await r.store.findOutboxMessage(second))?.attempts, 0);
      assert.equal(started, 1);
    });

    it("stores a payload holding a secret sealed, bound to its row, and opens it only to deliver it", async () => {
      const r = await rig({ sealer: testSealer() });
      const seen: OutboxDelivery[] = [];
      const id = await enqueue(r, { to: "ada@example.com", link: "https://x/#reset=s3cret-token" }, true);
      const stored = await r.store.findOutboxMessage(id);
      assert.ok(stored && !stored.payload.includes("s3cret") && !stored.payload.includes("ada@"));
      r.worker.register("webhook", async (message) => void seen.push(message), { timeoutMs: 1000 });
      r.worker.start();
      await eventually(() => seen.length === 1);
      assert.equal(seen[0]!.payload["link"], "https://x/#reset=s3cret-token");

      // The same sealed text moved to another row does not open there.
      const moved = { ...stored, id: "another-id" };
      assert.throws(() => r.outbox.open(moved));
      const plain = new Outbox({ clock: systemClock });
      await assert.rejects(
        r.store.transaction((tx) => plain.enqueue(tx, { kind: "mail", payload: { link: "x" }, secret: true })),
        /no sealer/,
      );
    });

    it("a payload that cannot be opened any more (key lost) fails instead of blocking the queue", async () => {
      const first = await rig({ sealer: testSealer() });
      const id = await enqueue(first, { link: "secret" }, true);
      await first.worker.stop();
      // Same database, another key: the sealed payload can never be opened.
      const other = new Outbox({ clock: systemClock, sealer: testSealer() });
      const worker = new OutboxWorker({
        store: first.store,
        outbox: other,
        clock: systemClock,
        retry: { ...FAST_RETRY, maxAttempts: 2 },
        log: quietLog,
        idlePollMs: 50,
      });
      running.push({ worker, store: first.store });
      const handler: OutboxHandler = async () => assert.fail("must not be called");
      worker.register("webhook", handler, { timeoutMs: 1000 });
      worker.start();
      await eventually(async () => (await first.store.findOutboxMessage(id))?.deadAt !== null);
    });
  });
}

describe("two instances on one PostgreSQL database", () => {
  it("deliver each of 200 messages exactly once, both workers running", async () => {
    const db = await createThrowawaySchema("gatehouse_outbox_two");
    const stores = [0, 1].map(() => openPostgresStore(db.url, { schema: db.schema }));
    const workers: OutboxWorker[] = [];
    try {
      await stores[0]!.migrate();
      const received = new Map<string, number>();
      const byWorker = [0, 0];
      const outboxes = stores.map(() => new Outbox({ clock: systemClock }));
      stores.forEach((store, i) => {
        const worker = new OutboxWorker({
          store,
          outbox: outboxes[i]!,
          clock: systemClock,
          retry: FAST_RETRY,
          log: quietLog,
          idlePollMs: 20,
          batchSize: 5,
        });
        worker.register(
          "webhook",
          async (message) => {
            received.set(message.id, (received.get(message.id) ?? 0) + 1);
            byWorker[i]!++;
            await new Promise((resolve) => setTimeout(resolve, 2));
          },
          { timeoutMs: 5000 },
        );
        worker.start();
        workers.push(worker);
      });
      const ids: string[] = [];
      await Promise.all(
        Array.from({ length: 200 }, async (_, n) => {
          const i = n % 2;
          ids.push(await stores[i]!.transaction((tx) => outboxes[i]!.enqueue(tx, { kind: "webhook", payload: { n } })));
        }),
      );
      await eventually(() => received.size === 200, 30_000);
      await eventually(async () => (await stores[0]!.countOutboxBacklog()) === 0);
      assert.deepEqual(new Set(received.keys()), new Set(ids));
      assert.deepEqual(
        [...received.values()].filter((count) => count !== 1),
        [],
        "no message delivered twice",
      );
      assert.ok(byWorker[0]! > 0 && byWorker[1]! > 0, `both workers delivered: ${byWorker.join(" + ")}`);
    } finally {
      for (const worker of workers) await worker.stop();
      for (const store of stores) await store.close();
      await db.drop();
    }
  });
});
