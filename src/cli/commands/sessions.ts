import type { Command } from "commander";
import { systemClock } from "../../core/clock.ts";
import { AuthError } from "../../core/errors.ts";
import { withStore } from "../connect.ts";
import type { GlobalOptions } from "../environment.ts";
import { isoTime, printJson, printLines, printTable } from "../output.ts";
import { requireUser } from "./users.ts";

export function registerSessionsCommand(program: Command): void {
  const sessions = program.command("sessions").description("list or revoke a user's live sessions");

  sessions
    .command("list")
    .description("list a user's live sessions, newest first")
    .argument("<username>")
    .option("--json", "print JSON")
    .action(async (username: string, options: { json?: boolean }, command: Command) => {
      const rows = await withStore(command.optsWithGlobals<GlobalOptions>(), async (store) => {
        const user = await requireUser(store, username);
        return (await store.listLiveSessions(user.id, systemClock.now())).map((s) => ({
          id: s.id,
          createdAt: isoTime(s.createdAt),
          lastUsedAt: isoTime(s.lastUsedAt),
          idleExpiresAt: isoTime(s.idleExpiresAt),
          absoluteExpiresAt: isoTime(s.absoluteExpiresAt),
          ip: s.ip,
          userAgent: s.userAgent,
        }));
      });
      if (options.json) return printJson(rows);
      if (rows.length === 0) return printLines(`${username} has no live sessions.`);
      printTable(
        ["ID", "CREATED", "LAST USED", "IDLE EXPIRES", "IP", "USER AGENT"],
        rows.map((s) => [s.id, s.createdAt, s.lastUsedAt, s.idleExpiresAt, s.ip, s.userAgent?.slice(0, 40)]),
      );
    });

  sessions
    .command("revoke")
    .description("end a session now: its refresh token stops working at once")
    .argument("<session-id>")
    .action(async (sessionId: string, _options: unknown, command: Command) => {
      const ended = await withStore(command.optsWithGlobals<GlobalOptions>(), (store) => store.endSession(sessionId, systemClock.now(), "revoked"));
      if (!ended) throw new AuthError("not_found", "No open session with that id. List them with `gatehouse sessions list <username>`.");
      printLines(`Revoked session ${sessionId}.`);
    });
}
