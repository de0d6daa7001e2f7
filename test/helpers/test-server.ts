import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { createGatehouse, type CreateGatehouseOptions, type Gatehouse } from "../../src/gatehouse.ts";
import { createLogger } from "../../src/logging/logger.ts";
import { createServerApp } from "../../src/server/app.ts";
import { listen } from "../../src/server/start-server.ts";

export interface TestServer {
  /** e.g. http://127.0.0.1:40123 */
  url: string;
  /** Every log line the server wrote (JSON text), for secret-leak scans. */
  logs: string[];
  auth: Gatehouse;
  /** The SQLite file behind this server. */
  databasePath: string;
  close(): Promise<void>;
}

/**
 * The key-encryption key of test servers on a shared database (a `store`, or a PostgreSQL
 * URL): instances sharing a database must share its key, as they would share
 * KEY_ENCRYPTION_KEY in production, and no key file lands in the working directory. A server
 * on its own SQLite file gets a key file generated in its temp directory.
 */
export const SHARED_STORE_KEY_ENCRYPTION_KEY = randomBytes(32).toString("hex");
const sharesDatabase = (options: TestServerOptions): boolean =>
  options.store !== undefined || /^postgres(?:ql)?:/i.test(options.database ?? "");

export type TestServerOptions = Omit<CreateGatehouseOptions, "logger"> & { keepDirectory?: string };

/**
 * Starts the real standalone server (same app as `npm start`) on 127.0.0.1 with a random
 * port and a fresh SQLite file in a temp directory (or `keepDirectory` to reuse one).
 */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const { keepDirectory, ...gatehouseOptions } = options;
  const dir = keepDirectory ?? mkdtempSync(join(tmpdir(), "gatehouse-test-"));
  const databasePath = join(dir, "gatehouse.db");
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const auth = await createGatehouse({
    database: `sqlite:${databasePath}`,
    ...(sharesDatabase(gatehouseOptions) ? { keyEncryptionKey: SHARED_STORE_KEY_ENCRYPTION_KEY } : {}),
    ...gatehouseOptions,
    logger: createLogger({ level: "info", destination }),
  });
  const app = createServerApp(auth);
  const { server, url } = await listen(app, 0, "127.0.0.1");
  return {
    url,
    logs,
    auth,
    databasePath,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await auth.close();
      if (!keepDirectory) rmSync(dir, { recursive: true, force: true });
    },
  };
}
