import type { Command } from "commander";
import { systemClock } from "../../core/clock.ts";
import { parseDurationSeconds } from "../../core/duration.ts";
import { AuthError } from "../../core/errors.ts";
import { isSecurityEventType, SECURITY_EVENT_TYPES } from "../../core/events/security-event.ts";
import type { AuditEventRecord, Store } from "../../core/store/store.ts";
import { normalizeUsername } from "../../core/users/username.ts";
import { withGatehouse, withStore } from "../connect.ts";
import type { GlobalOptions } from "../environment.ts";
import { isoTime, printJson, printLines, printTable } from "../output.ts";
import { UsageError } from "../usage-error.ts";

interface AuditOptions {
  user?: string;
  type?: string;
  since?: string;
  limit?: string;
  json?: boolean;
}

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 10_000;

/** The user an operator named: a username (as login reads it) or a user id. */
async function userIdOf(store: Store, given: string): Promise<string> {
  const user = (await store.findUserByUsername(normalizeUsername(given))) ?? (await store.findUserById(given));
  if (user) return user.id;
  throw new AuthError("not_found", `No user named or with the id "${given.slice(0, 64)}".`);
}

function parseLimit(text: string | undefined): number {
  if (text === undefined) return DEFAULT_LIMIT;
  const limit = /^\d{1,5}$/.test(text) ? Number(text) : Number.NaN;
  if (!(limit >= 1 && limit <= MAX_LIMIT))
    throw new UsageError(`--limit must be a whole number from 1 to ${MAX_LIMIT}.`);
  return limit;
}

function parseSince(text: string | undefined, now: number): number | undefined {
  if (text === undefined) return undefined;
  const seconds = parseDurationSeconds(text);
  if (seconds === undefined) throw new UsageError("--since must be a duration like 30m, 1h, 7d or 3600.");
  return now - seconds * 1000;
}

/** Details as `name=value` pairs, for the table. */
const detailsText = (data: AuditEventRecord["data"]): string =>
  Object.entries(data)
    .map(([name, value]) => `${name}=${String(value)}`)
    .join(" ");

async function listEvents(command: Command, options: AuditOptions): Promise<void> {
  if (options.type !== undefined && !isSecurityEventType(options.type)) {
    throw new UsageError(`--type must be one of: ${SECURITY_EVENT_TYPES.join(", ")}.`);
  }
  const limit = parseLimit(options.limit);
  const since = parseSince(options.since, systemClock.now());
  const rows = await withStore(command.optsWithGlobals<GlobalOptions>(), async (store) => {
    const userId = options.user === undefined ? undefined : await userIdOf(store, options.user);
    const events = await store.listAuditEvents({
      limit,
      ...(userId === undefined ? {} : { userId }),
      ...(options.type === undefined ? {} : { type: options.type }),
      ...(since === undefined ? {} : { since }),
    });
    const names = new Map<string, string>();
    for (const id of new Set(events.map((e) => e.userId).filter((id): id is string => id !== null))) {
      const user = await store.findUserById(id);
      if (user) names.set(id, user.username);
    }
    return events.map((e) => ({
      id: e.id,
      type: e.type,
      at: isoTime(e.at),
      userId: e.userId,
      username: e.userId === null ? null : (names.get(e.userId) ?? null),
      sessionId: e.sessionId,
      ip: e.ip,
      userAgent: e.userAgent,
      details: e.data,
    }));
  });
  if (options.json) return printJson(rows);
  if (rows.length === 0) return printLines("No events match.");
  printTable(
    ["TIME", "TYPE", "USER", "SESSION", "IP", "USER AGENT", "DETAILS"],
    rows.map((e) => [
      e.at,
      e.type,
      e.username ?? e.userId,
      e.sessionId,
      e.ip,
      e.userAgent?.slice(0, 40),
      detailsText(e.details),
    ]),
  );
}

export function registerAuditCommand(program: Command): void {
  const audit = program
    .command("audit")
    .description("show security events (logins, logouts, password changes, …), newest first")
    .option("--user <user>", "only this user's events (username or id)")
    .option("--type <type>", `only events of this type (${SECURITY_EVENT_TYPES.join(", ")})`)
    .option("--since <duration>", "only events from this long ago until now, e.g. 30m, 1h, 7d")
    .option("--limit <n>", `at most this many events (default ${DEFAULT_LIMIT})`)
    .option("--json", "print JSON")
    .action((options: AuditOptions, command: Command) => listEvents(command, options));

  audit
    .command("prune")
    .description("delete audit events older than AUDIT_RETENTION now (the server also does it every hour)")
    .action(async (_options: unknown, command: Command) => {
      const result = await withGatehouse(command.optsWithGlobals<GlobalOptions>(), (auth) => auth.pruneExpiredEvents());
      printLines(`Deleted ${result.auditEvents} audit events and ${result.outboxMessages} old outbox messages.`);
    });
}
