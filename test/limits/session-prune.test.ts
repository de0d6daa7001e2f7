import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { after, describe, it } from "node:test";
import { ManualClock } from "../../src/core/clock.ts";
import type { SessionRecord, Store } from "../../src/core/store/store.ts";
import { createGatehouse } from "../../src/gatehouse.ts";
import { createLogger } from "../../src/logging/logger.ts";
import { openSqliteStore } from "../../src/store/sqlite/driver.ts";
import { STRONG_PASSWORD } from "../helpers/http.ts";
import { runCli } from "../helpers/cli.ts";

const DAY = 86_400_000;
const caller = { ip: "192.0.2.7", userAgent: "prune-test" };

function oldSession(userId: string, createdAt: number, overrides: Partial<SessionRecord> = {}): SessionRecord {
  return {
    id: randomUUID(),
    userId,
    createdAt,
    lastUsedAt: createdAt,
    absoluteExpiresAt: createdAt + 30 * DAY,
    idleExpiresAt: createdAt + 7 * DAY,
    endedAt: null,
    endReason: null,
    userAgent: null,
    ip: null,
    amr: ["pwd"],
    ...overrides,
  };
}

describe("ended and expired sessions are pruned on a schedule", () => {
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-prune-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("removes sessions ended or expired longer ago than the retention, and keeps the rest", async () => {
    const clock = new ManualClock(Date.UTC(2032, 0, 1));
    const auth = await createGatehouse({
      database: `sqlite:${join(dir, "schedule.db")}`,
      clock,
      sessionPruneIntervalSeconds: 1,
      sessionRetentionSeconds: 86_400,
      logger: createLogger({ level: "silent" }),
    });
    try {
      await auth.service.register("pruned-user", STRONG_PASSWORD, caller);
      const loggedOut = await auth.service.login("pruned-user", STRONG_PASSWORD, caller);
      await auth.service.logoutSession(loggedOut.session.id);
      const idle = await auth.service.login("pruned-user", STRONG_PASSWORD, caller);
      clock.advance(7 * DAY + 2 * DAY); // the logout is 9 days old; the idle session expired 2 days ago
      const live = await auth.service.login("pruned-user", STRONG_PASSWORD, caller);
      const endedYesterday = await auth.service.login("pruned-user", STRONG_PASSWORD, caller);
      await auth.service.logoutSession(endedYesterday.session.id);

      const gone = async (id: string) => (await auth.store.findSession(id)) === null;
      for (let waited = 0; waited < 15_000 && !(await gone(idle.session.id)); waited += 200) await sleep(200);
      assert.equal(await gone(loggedOut.session.id), true, "ended 9 days ago: pruned");
      assert.equal(await gone(idle.session.id), true, "expired 2 days ago: pruned");
      assert.equal(await gone(live.session.id), false, "live: kept");
      assert.equal(await gone(endedYesterday.session.id), false, "ended just now: kept for the retention period");
    } finally {
      await auth.close();
    }
  });

  it("the schedule can be turned off with 0, and retention is at least a day", async () => {
    const { resolveConfig } = await import("../../src/core/config.ts");
    const config = resolveConfig();
    assert.equal(config.sessionPruneIntervalSeconds, 3600);
    assert.equal(config.sessionRetentionSeconds, 7 * 86_400);
    assert.equal(resolveConfig({ sessionPruneIntervalSeconds: 0 }).sessionPruneIntervalSeconds, 0);
    assert.throws(() => resolveConfig({ sessionRetentionSeconds: 3600 }), /sessionRetentionSeconds/);
  });
});

describe("npx gatehouse sessions prune", () => {
  const cwd = mkdtempSync(join(tmpdir(), "gatehouse-prune-cli-"));
  const databasePath = join(cwd, "cli.db");
  after(() => rmSync(cwd, { recursive: true, force: true }));

  const cli = (args: string[], env: Record<string, string> = {}) =>
    runCli(args, { cwd, env: { HOME: cwd, DATABASE_URL: `sqlite:${databasePath}`, ...env }, timeoutMs: 60_000 });

  async function seed(): Promise<{ old: string[]; kept: string[] }> {
    const store: Store = openSqliteStore(databasePath);
    try {
      await store.migrate();
      const now = Date.now();
      const sessions = [
        oldSession("cli-user", now - 40 * DAY, { endedAt: now - 20 * DAY, endReason: "logout" }),
        oldSession("cli-user", now - 40 * DAY), // absolute end 10 days ago
        oldSession("cli-user", now - 2 * DAY, { endedAt: now - 2 * DAY, endReason: "logout" }),
        oldSession("cli-user", now - 2 * DAY),
      ];
      for (const session of sessions) await store.insertSession(session);
      return { old: sessions.slice(0, 2).map((s) => s.id), kept: sessions.slice(2).map((s) => s.id) };
    } finally {
      await store.close();
    }
  }

  it("removes what the retention allows, says how many, and prints JSON with --json", async () => {
    const { kept } = await seed();
    const json = await cli(["sessions", "prune", "--json"]);
    assert.equal(json.code, 0, json.stderr);
    const report = JSON.parse(json.stdout) as { removed: number; before: string };
    assert.equal(report.removed, 2);
    assert.ok(Date.now() - Date.parse(report.before) > 7 * DAY - 60_000, "default retention: 7 days");

    const again = await cli(["sessions", "prune"]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /^Removed 0 sessions ended or expired before \S+\.\n$/);

    const store = openSqliteStore(databasePath);
    try {
      for (const id of kept) assert.notEqual(await store.findSession(id), null);
    } finally {
      await store.close();
    }
  });

  it("follows SESSION_RETENTION", async () => {
    await seed();
    const run = await cli(["sessions", "prune", "--json"], { SESSION_RETENTION: "1d" });
    assert.equal(run.code, 0, run.stderr);
    assert.equal((JSON.parse(run.stdout) as { removed: number }).removed, 4, "ended two days ago is now old enough");
    const tooShort = await cli(["sessions", "prune"], { SESSION_RETENTION: "1h" });
    assert.equal(tooShort.code, 1, "a retention under a day is refused");
    assert.match(tooShort.stderr, /SESSION_RETENTION/);
  });

  it("has --help (exit 0) and answers a usage error with exit 2", async () => {
    const help = await cli(["sessions", "prune", "--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /SESSION_RETENTION/);
    assert.match(help.stdout, /--json/);
    const wrong = await cli(["sessions", "prune", "extra"]);
    assert.equal(wrong.code, 2, wrong.stderr);
  });
});
