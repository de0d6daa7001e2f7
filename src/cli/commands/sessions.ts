import type { Command } from "commander";
import { systemClock } from "../../core/clock.ts";
import { AuthError } from "../../core/errors.ts";
import { withGatehouse, withStore } from "../connect.ts";
import { cliSettings, type GlobalOptions } from "../environment.ts";
import { isoTime, printJson, printLines, printTable } from "../output.ts";
import { requireUser } from "./users.ts";

export function registerSessionsCommand(program: Command): void {
  const sessions = program.command("sessions").description("list, revoke or prune sessions");

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
      const ended = await withGatehouse(command.optsWithGlobals<GlobalOptions>(), (auth) =>
        auth.service.revokeSession(sessionId),
      );
      if (!ended)
        throw new AuthError(
          "not_found",
          "No open session with that id. List them with `gatehouse sessions list <username>`.",
        );
      printLines(`Revoked session ${sessionId}.`);
    });

  sessions
    .command("prune")
    .description("delete sessions that ended or expired longer ago than SESSION_RETENTION, with their refresh tokens")
    .option("--json", "print JSON")
    .addHelpText(
      "after",
      "\nSESSION_RETENTION (default 7d, at least 1d) is how long ended and expired sessions are kept. The server " +
        "also prunes by itself every SESSION_PRUNE_INTERVAL (default 1h); this command is for doing it now.",
    )
    .action(async (options: { json?: boolean }, command: Command) => {
      const global = command.optsWithGlobals<GlobalOptions>();
      const retentionSeconds = cliSettings(global).config.sessionRetentionSeconds;
      const before = systemClock.now() - retentionSeconds * 1000;
      const removed = await withStore(global, (store) => store.pruneSessions(before));
      if (options.json) return printJson({ removed, before: isoTime(before) });
      printLines(
        `Removed ${removed} ${removed === 1 ? "session" : "sessions"} ended or expired before ${isoTime(before)}.`,
      );
    });
}
