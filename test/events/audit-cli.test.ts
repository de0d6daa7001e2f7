import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createEventIdGenerator } from "../../src/core/events/event-id.ts";
import { createGatehouse, type Gatehouse } from "../../src/gatehouse.ts";
import { createLogger } from "../../src/logging/logger.ts";
import { STRONG_PASSWORD } from "../helpers/http.ts";
import { type CliRun, runCli } from "../helpers/cli.ts";

const HOUR = 3_600_000;
/** A user agent that would recolour the terminal and reverse the line if printed raw. */
const HOSTILE_AGENT = "evil\u001b[31mRED\u202eesrever";

const hasRawControl = (text: string): boolean => text.includes("\u001b") || text.includes("\u202e");

type Run = CliRun;

describe("gatehouse audit", () => {
  const cwd = mkdtempSync(join(tmpdir(), "gatehouse-audit-cli-"));
  const database = `sqlite:${join(cwd, "audit.db")}`;
  let adaId = "";
  let oldEventId = "";
  after(() => rmSync(cwd, { recursive: true, force: true }));

  const cli = (args: string[], env: Record<string, string> = {}): Promise<Run> =>
    runCli(args, { cwd, env: { DATABASE_URL: database, ...env } });

  const withAuth = async <T>(work: (auth: Gatehouse) => Promise<T>): Promise<T> => {
    const auth = await createGatehouse({ database, logger: createLogger({ level: "silent" }), backgroundWork: false });
    try {
      return await work(auth);
    } finally {
      await auth.close();
    }
  };

  before(async () => {
    await withAuth(async (auth) => {
      const caller = { ip: "203.0.113.5", userAgent: HOSTILE_AGENT };
      adaId = (await auth.service.register("ada", STRONG_PASSWORD, caller)).id;
      await auth.service.register("bob", STRONG_PASSWORD, caller);
      await assert.rejects(auth.service.login("ada", "not the password at all!!", caller));
      await auth.service.login("ada", STRONG_PASSWORD, caller);
      // An event from two hours ago, for --since and pruning.
      const at = Date.now() - 2 * HOUR;
      oldEventId = createEventIdGenerator()(at);
      await auth.store.insertAuditEvent({
        id: oldEventId,
        at,
        type: "login_failed",
        userId: adaId,
        sessionId: null,
        ip: "198.51.100.1",
        userAgent: null,
        data: { reason: "wrong_password" },
      });
    });
  });

  it("lists every event newest first, usernames shown, control characters escaped", async () => {
    const run = await cli(["audit"]);
    assert.equal(run.code, 0, run.stderr);
    const lines = run.stdout.trimEnd().split("\n");
    assert.match(lines[0]!, /^TIME\s+TYPE\s+USER\s+SESSION\s+IP\s+USER AGENT\s+DETAILS$/);
    assert.deepEqual(
      lines.slice(1).map((line) => line.split(/\s+/)[1]),
      ["login_succeeded", "login_failed", "user_registered", "user_registered", "login_failed"],
    );
    assert.match(lines[2]!, /\bada\b.*reason=wrong_password/);
    assert.ok(!hasRawControl(run.stdout), "no raw escape or bidi control reaches the terminal");
    assert.ok(run.stdout.includes("evil\\x1b[31mRED\\u202eesrever"));
  });

  it("filters by --user (name or id), --type and --since, and prints JSON with --json", async () => {
    const byName = await cli(["audit", "--user", "ADA", "--json"]);
    assert.equal(byName.code, 0, byName.stderr);
    const events = JSON.parse(byName.stdout) as { type: string; userId: string; username: string; details: object }[];
    assert.deepEqual(
      events.map((e) => e.type),
      ["login_succeeded", "login_failed", "user_registered", "login_failed"],
    );
    assert.ok(events.every((e) => e.userId === adaId && e.username === "ada"));
    assert.ok(!hasRawControl(byName.stdout), "JSON spells controls as escapes too");

    const byId = await cli(["audit", "--user", adaId, "--type", "login_failed", "--since", "1h", "--json"]);
    const recent = JSON.parse(byId.stdout) as { type: string; details: object }[];
    assert.deepEqual(recent, [recent[0]]);
    assert.deepEqual(recent[0]?.details, { reason: "wrong_password" });

    const limited = await cli(["audit", "--limit", "2", "--json"]);
    assert.equal((JSON.parse(limited.stdout) as unknown[]).length, 2);
  });

  it("answers usage errors with exit 2 and an unknown user with exit 1", async () => {
    for (const args of [
      ["audit", "--type", "coffee_made"],
      ["audit", "--since", "soon"],
      ["audit", "--limit", "0"],
    ]) {
      const run = await cli(args);
      assert.equal(run.code, 2, args.join(" "));
      assert.match(run.stderr, /^gatehouse: /);
    }
    const unknown = await cli(["audit", "--user", "nobody"]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /No user named or with the id "nobody"/);
  });

  it("records the CLI's own changes: sessions revoke and users disable", async () => {
    const sessionId = await withAuth(async (auth) => (await auth.service.listSessions(adaId))[0]!.id);
    assert.equal((await cli(["sessions", "revoke", sessionId])).code, 0);
    assert.equal((await cli(["users", "disable", "bob"])).code, 0);
    const run = await cli(["audit", "--since", "1h", "--limit", "2", "--json"]);
    const [disabled, revoked] = JSON.parse(run.stdout) as { type: string; sessionId: string; details: object }[];
    assert.equal(disabled?.type, "user_disabled");
    assert.equal(revoked?.type, "session_revoked");
    assert.equal(revoked?.sessionId, sessionId);
    assert.deepEqual(revoked?.details, { by: "administrator" });
  });

  it("audit prune deletes events older than AUDIT_RETENTION", async () => {
    const run = await cli(["audit", "prune"], { AUDIT_RETENTION: "1h" });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^Deleted 1 audit events/);
    const left = JSON.parse((await cli(["audit", "--json"])).stdout) as { id: string }[];
    assert.ok(!left.some((e) => e.id === oldEventId));
    assert.equal(left.length, 6);
  });
});
