import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createGatehouse, type CreateGatehouseOptions, type Gatehouse } from "../../src/gatehouse.ts";
import { createLogger } from "../../src/logging/logger.ts";
import { createServerApp } from "../../src/server/app.ts";
import { listen } from "../../src/server/start-server.ts";
import { openPostgresStore } from "../../src/store/postgres/driver.ts";
import { createThrowawaySchema, type ThrowawaySchema } from "../helpers/postgres-schema.ts";
import { request, type JsonResponse, STRONG_PASSWORD } from "../helpers/http.ts";

/** The two databases every limit is proved on. */
export const STORES = ["sqlite", "postgres"] as const;
export type StoreKind = (typeof STORES)[number];

export interface LimitsServer {
  url: string;
  auth: Gatehouse;
  /** Logs in from `ip` (sent as X-Forwarded-For; the server trusts one proxy hop). */
  login(username: string, password: string, ip: string): Promise<JsonResponse>;
  register(username: string, ip: string, password?: string): Promise<JsonResponse>;
  close(): Promise<void>;
}

export type LimitsServerOptions = Omit<CreateGatehouseOptions, "logger" | "store" | "database">;

/**
 * A real server (the standalone app) on 127.0.0.1 over a fresh SQLite file or a fresh
 * PostgreSQL schema, trusting one proxy hop so a test can speak from many client addresses.
 */
export async function startLimitsServer(kind: StoreKind, options: LimitsServerOptions = {}): Promise<LimitsServer> {
  let schema: ThrowawaySchema | undefined;
  let dir: string | undefined;
  const logger = createLogger({ level: "silent" });
  let auth: Gatehouse;
  if (kind === "postgres") {
    schema = await createThrowawaySchema("gatehouse_limits");
    auth = await createGatehouse({
      ...options,
      store: openPostgresStore(schema.url, { schema: schema.schema }),
      logger,
    });
  } else {
    dir = mkdtempSync(join(tmpdir(), "gatehouse-limits-"));
    auth = await createGatehouse({ ...options, database: `sqlite:${join(dir, "limits.db")}`, logger });
  }
  const { server, url } = await listen(createServerApp(auth, { trustProxy: 1 }), 0, "127.0.0.1");
  const post = (path: string, json: unknown, ip: string) =>
    request(`${url}${path}`, { method: "POST", json, headers: { "x-forwarded-for": ip } });
  return {
    url,
    auth,
    login: (username, password, ip) => post("/auth/login", { username, password }, ip),
    register: (username, ip, password = STRONG_PASSWORD) => post("/auth/register", { username, password }, ip),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await auth.close();
      await schema?.drop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Counts responses by status: `{ 200: 3, 429: 47 }`. */
export function statusCounts(responses: readonly JsonResponse[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const { status } of responses) counts[status] = (counts[status] ?? 0) + 1;
  return counts;
}

/** The `error` code of a JSON error answer. */
export const errorOf = (response: JsonResponse): string | undefined =>
  (response.body as { error?: string } | null)?.error;

/** `203.0.113.<n>`-style documentation addresses (RFC 5737), one per index. */
export const address = (n: number): string => `198.51.100.${n % 250}`;
