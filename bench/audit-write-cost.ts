/**
 * What recording login_succeeded adds to a login's database work: session starts with and
 * without the event, in alternating rounds, on a SQLite file and (with DATABASE_URL) PostgreSQL.
 * Run: node --import tsx bench/audit-write-cost.ts (PostgreSQL: in a throwaway schema it drops after).
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { systemClock } from "../src/core/clock.ts";
import { SecurityEvents } from "../src/core/events/security-events.ts";
import { SessionService } from "../src/core/sessions/session-service.ts";
import type { Store } from "../src/core/store/store.ts";
import { openStore } from "../src/store/open-store.ts";
import { openPostgresStore } from "../src/store/postgres/driver.ts";

const ROUNDS = 10;
const PER_ROUND = 300;

async function measure(name: string, store: Store): Promise<void> {
  await store.migrate();
  const events = new SecurityEvents({ clock: systemClock, log: { error: () => undefined } });
  const sessions = new SessionService(
    store,
    systemClock,
    { idleSeconds: 3600, absoluteSeconds: 7200, graceSeconds: 5 },
    Buffer.alloc(32, 1),
    100,
  );
  const caller = { ip: "203.0.113.1", userAgent: "bench" };
  const withEvent = async (tx: Parameters<SecurityEvents["record"]>[0], session: { id: string }) => {
    await events.record(tx, { type: "login_succeeded", userId: "u", sessionId: session.id, ...caller });
  };
  const totals = { plain: 0, event: 0 };
  for (let round = 0; round < ROUNDS; round++) {
    for (const kind of round % 2 === 0 ? (["plain", "event"] as const) : (["event", "plain"] as const)) {
      const started = performance.now();
      // A user per login, so the per-user session cap never has sessions to end.
      for (let i = 0; i < PER_ROUND; i++) {
        await sessions.start(`u-${round}-${kind}-${i}`, caller, kind === "event" ? withEvent : undefined);
      }
      totals[kind] += performance.now() - started;
    }
  }
  const per = (ms: number) => (ms * 1000) / (ROUNDS * PER_ROUND);
  console.log(
    `${name}: session start ${per(totals.plain).toFixed(0)} µs, with login_succeeded ${per(totals.event).toFixed(0)} µs ` +
      `(+${(per(totals.event) - per(totals.plain)).toFixed(0)} µs per login)`,
  );
  await store.close();
}

const dir = mkdtempSync(join(tmpdir(), "gatehouse-audit-cost-"));
try {
  await measure("SQLite file", await openStore(`sqlite:${join(dir, "cost.db")}`));
  const url = process.env["DATABASE_URL"];
  if (url?.startsWith("postgres")) {
    const { default: pg } = await import("pg");
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    const schema = `gatehouse_bench_${randomBytes(6).toString("hex")}`;
    await admin.query(`CREATE SCHEMA ${schema}`);
    try {
      await measure("PostgreSQL", openPostgresStore(url, { schema }));
    } finally {
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
