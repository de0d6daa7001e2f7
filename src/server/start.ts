import { existsSync } from "node:fs";
import { createGatehouse } from "../gatehouse.ts";
import { createLogger } from "../logging/logger.ts";
import { createServerApp } from "./app.ts";
import { readEnvConfig } from "./env-config.ts";
import { redactUrl, sqliteFileOf } from "../store/open-store.ts";
import { prepareGracefulShutdown } from "./graceful-shutdown.ts";
import { listen } from "./start-server.ts";

/**
 * Starts the standalone server (`npm start`, `gatehouse serve`): settings from the environment
 * and `.env`; shuts down gracefully on SIGINT/SIGTERM (see graceful-shutdown.ts) and exits 0.
 * Rejects with AuthError("invalid_config") on a bad setting.
 */
export async function startServer(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  if (existsSync(".env")) process.loadEnvFile(".env");
  const settings = readEnvConfig(env);
  const logger = createLogger({ level: settings.logLevel });
  const database = settings.config.database;
  const dbPath = sqliteFileOf(database);
  const freshDatabase = dbPath !== undefined && !existsSync(dbPath);

  const auth = await createGatehouse({ ...settings.options, logger });
  const app = createServerApp(auth, { trustProxy: settings.trustProxy });
  const { server, url } = await listen(app, settings.port, settings.host);
  const graceful = prepareGracefulShutdown({
    server,
    auth,
    logger,
    drainSeconds: settings.shutdownDrainSeconds,
    timeoutSeconds: settings.shutdownTimeoutSeconds,
  });

  const generated = [...(freshDatabase ? [`created database ${dbPath}`] : []), ...auth.startupNotes];
  logger.info(
    { url, database: dbPath ?? redactUrl(database), generated },
    `Gatehouse listening on ${url}${generated.length > 0 ? ` (first start: ${generated.join("; ")})` : ""}`,
  );

  // A second signal cuts the drain short; it never skips closing the database.
  const stop = (signal: NodeJS.Signals) => {
    void graceful.shutdown(signal).then((code) => process.exit(code));
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}
