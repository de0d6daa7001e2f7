import { openPostgresStore } from "../../src/store/postgres/driver.ts";
import { createThrowawaySchema } from "../helpers/postgres-schema.ts";
import { startTestServer, type TestServer, type TestServerOptions } from "../helpers/test-server.ts";

export type StoreKind = "sqlite" | "postgres";
/**
 * "high": throttles opened wide so requests reach the code behind them;
 * "default": the shipped limits, to fuzz the 429 answers.
 */
export type LimitsKind = "high" | "default";

export interface FuzzTarget {
  server: TestServer;
  port: number;
  close(): Promise<void>;
}

const WIDE_OPEN = 1_000_000;

/**
 * The real standalone server (same app as `npm start`) on 127.0.0.1, on a fresh SQLite
 * file or a throwaway PostgreSQL schema.
 */
export async function startFuzzTarget(store: StoreKind, limits: LimitsKind): Promise<FuzzTarget> {
  const options: TestServerOptions = {
    ...(limits === "high"
      ? {
          loginThrottle: { perAccountAndIp: { attempts: WIDE_OPEN }, perIp: { attempts: WIDE_OPEN } },
          loginRate: { perIp: { attempts: WIDE_OPEN }, perAccount: { attempts: WIDE_OPEN } },
          argon2: { maxPerAddress: 10_000 },
          registrationsPerIpPerHour: WIDE_OPEN,
        }
      : {}),
  };
  if (store === "sqlite") {
    const server = await startTestServer(options);
    return { server, port: portOf(server), close: () => server.close() };
  }
  const db = await createThrowawaySchema("gatehouse_fuzz");
  try {
    const server = await startTestServer({
      ...options,
      store: openPostgresStore(db.url, { schema: db.schema }),
    });
    return {
      server,
      port: portOf(server),
      close: async () => {
        await server.close();
        await db.drop();
      },
    };
  } catch (error) {
    await db.drop();
    throw error;
  }
}

function portOf(server: TestServer): number {
  return Number(new URL(server.url).port);
}
