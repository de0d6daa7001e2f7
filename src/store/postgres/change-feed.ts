import pg from "pg";
import type { ChangeListener, ChangeSubscription, StoreChange } from "../../core/store/change-feed.ts";
import { CHANGE_CHANNEL_SQL } from "../sql/dialect.ts";

export interface PostgresChangeFeedOptions {
  /** The pool's connection settings (URL, search_path), so the feed hears the same schema. */
  connection: pg.ClientConfig;
  /** Shown in pg_stat_activity, so operators (and tests) can find the feed's connection. */
  applicationName: string;
  /** How often the connection proves it is alive (default 200 ms). */
  heartbeatMs?: number;
  /** A heartbeat unanswered this long counts as a lost connection (default 3000 ms). */
  heartbeatTimeoutMs?: number;
  /** Reconnection backoff: first delay, doubled up to the maximum, with jitter (defaults 50 ms, 2000 ms). */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
}

/** "s <ended_at> <id>": a session ended; "k": the signing keys changed. Anything else is ignored. */
export function parseChange(payload: string): StoreChange | undefined {
  if (payload === "k") return { kind: "signing_keys_changed" };
  if (!payload.startsWith("s ")) return undefined;
  const space = payload.indexOf(" ", 2);
  if (space === -1) return undefined;
  const endedAt = Number(payload.slice(2, space));
  const sessionId = payload.slice(space + 1);
  if (!Number.isSafeInteger(endedAt) || sessionId.length === 0) return undefined;
  return { kind: "session_ended", sessionId, endedAt };
}

const quoteIdentifier = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/**
 * PostgreSQL `LISTEN` on a dedicated connection (a pooled one would be handed to other work
 * and miss notifications). Reconnects with backoff when the connection drops, and sends a
 * tiny query every `heartbeatMs`: PostgreSQL delivers pending notifications before it answers
 * one, so each answer proves nothing committed before it was sent went unheard, and a
 * connection that died silently shows as missing heartbeats rather than as calm.
 */
export function openPostgresChangeFeed(
  listener: ChangeListener,
  options: PostgresChangeFeedOptions,
): ChangeSubscription {
  const heartbeatMs = options.heartbeatMs ?? 200;
  const heartbeatTimeoutMs = options.heartbeatTimeoutMs ?? 3000;
  const reconnectMinMs = options.reconnectMinMs ?? 50;
  const reconnectMaxMs = options.reconnectMaxMs ?? 2000;
  let closed = false;
  let client: pg.Client | undefined;
  let heartbeat: NodeJS.Timeout | undefined;
  let retry: NodeJS.Timeout | undefined;
  let failures = 0;

  const connect = async (): Promise<void> => {
    retry = undefined;
    if (closed) return;
    const current = new pg.Client({
      ...options.connection,
      application_name: options.applicationName,
      keepAlive: true,
    });
    client = current;
    let channel: string | undefined;
    let dropped = false;
    let pendingSince: number | undefined;

    const drop = (error: unknown): void => {
      if (dropped) return;
      dropped = true;
      if (client === current) client = undefined;
      clearInterval(heartbeat);
      heartbeat = undefined;
      current.end().catch(() => undefined);
      if (closed) return;
      listener.lost(error);
      const delay = Math.min(reconnectMaxMs, reconnectMinMs * 2 ** failures++);
      retry = setTimeout(() => void connect(), delay / 2 + Math.random() * (delay / 2));
      retry.unref();
    };
    current.on("error", drop);
    current.on("end", () => drop(new Error("The change feed's connection ended.")));
    current.on("notification", (message) => {
      if (message.channel !== channel || message.payload === undefined) return;
      const change = parseChange(message.payload);
      if (change) listener.change(change);
    });

    try {
      await current.connect();
      const { rows } = await current.query<{ channel: string }>(`SELECT ${CHANGE_CHANNEL_SQL} AS channel`);
      channel = rows[0]!.channel;
      await current.query(`LISTEN ${quoteIdentifier(channel)}`);
    } catch (error) {
      drop(error);
      return;
    }
    if (dropped) return;
    if (closed) {
      await current.end().catch(() => undefined);
      return;
    }
    failures = 0;
    listener.connected();
    heartbeat = setInterval(() => {
      const now = performance.now();
      if (pendingSince !== undefined) {
        if (now - pendingSince > heartbeatTimeoutMs) drop(new Error("The change feed's heartbeat went unanswered."));
        return;
      }
      pendingSince = now;
      current.query("SELECT 1").then(
        () => {
          pendingSince = undefined;
          if (!dropped && !closed) listener.synced(now);
        },
        (error: unknown) => drop(error),
      );
    }, heartbeatMs);
    heartbeat.unref();
  };

  void connect();
  return {
    close: async () => {
      if (closed) return;
      closed = true;
      clearTimeout(retry);
      clearInterval(heartbeat);
      const current = client;
      client = undefined;
      await current?.end().catch(() => undefined);
    },
  };
}
