import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { ManualClock } from "../../src/core/clock.ts";
import { totpCode } from "../../src/core/mfa/totp.ts";
import { createGatehouse } from "../../src/gatehouse.ts";
import { createLogger } from "../../src/logging/logger.ts";
import { startSmtpServer, to } from "../email/smtp-test-server.ts";
import { STRONG_PASSWORD } from "../helpers/http.ts";
import { runCli } from "../helpers/cli.ts";

describe("gatehouse users mfa-reset", () => {
  const cwd = mkdtempSync(join(tmpdir(), "gatehouse-mfa-cli-"));
  const database = `sqlite:${join(cwd, "cli.db")}`;
  after(() => rmSync(cwd, { recursive: true, force: true }));
  const caller = { ip: "203.0.113.9", userAgent: "cli-test" };

  const cli = (args: string[]) => runCli(args, { cwd, env: { DATABASE_URL: database } });

  it("removes TOTP and recovery codes, ends sessions, and says so (--json); unknown users fail", async () => {
    const clock = new ManualClock(Date.now());
    const auth = await createGatehouse({ database, clock, logger: createLogger({ level: "silent" }) });
    let refreshToken: string;
    try {
      const user = await auth.service.register("lost.phone", STRONG_PASSWORD, caller);
      await auth.store.setUserEmail(user.id, "lost.phone@example.test", clock.now());
      const { secret } = await auth.mfa.enrolTotp(user.id, user.username);
      await auth.mfa.confirmTotp(user.id, totpCode(secret, clock.now()), async () => undefined);
      clock.advance(30_000);
      const first = await auth.service.beginLogin("lost.phone", STRONG_PASSWORD, caller);
      assert.ok("mfaRequired" in first);
      await assert.rejects(auth.service.login("lost.phone", STRONG_PASSWORD, caller), {
        code: "insufficient_user_authentication",
      });
      const proof = { code: totpCode(secret, clock.now()) };
      refreshToken = (await auth.service.completeMfaLogin(first.mfaToken, proof, caller)).refreshToken;
    } finally {
      await auth.close();
    }

    const reset = await cli(["users", "mfa-reset", "LOST.PHONE", "--json"]);
    assert.equal(reset.code, 0, reset.stderr);
    assert.equal(JSON.parse(reset.stdout).removed, true);
    assert.ok(!reset.stdout.includes("secret"));
    const again = await cli(["users", "mfa-reset", "lost.phone"]);
    assert.equal(again.code, 0);
    assert.match(again.stdout, /had no second factor/);
    const unknown = await cli(["users", "mfa-reset", "nobody\u001b[31m"]);
    assert.notEqual(unknown.code, 0);
    assert.ok(!unknown.stderr.includes("\u001b"), "terminal-safe output");

    // A running server delivers the notice the command queued, once (the second reset removed nothing).
    const smtp = await startSmtpServer();
    const reopened = await createGatehouse({
      database,
      email: { smtpUrl: smtp.url },
      logger: createLogger({ level: "silent" }),
    });
    try {
      const grant = await reopened.service.login("lost.phone", STRONG_PASSWORD, caller);
      assert.equal(typeof grant.accessToken, "string", "the password alone logs in again");
      await assert.rejects(reopened.service.refresh(refreshToken), { code: "invalid_grant" });
      const [notice] = await smtp.waitFor(to("lost.phone@example.test"));
      assert.equal(notice!.parsed.subject, "A second factor was removed");
      const audit = await reopened.store.listAuditEvents({ type: "mfa_disabled", limit: 10 });
      assert.deepEqual(
        audit.map((e) => e.data["by"]),
        ["administrator"],
      );
    } finally {
      await reopened.close();
      await smtp.stop();
    }
    assert.equal(smtp.received.length, 1);
  });
});
