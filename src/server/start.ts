import { existsSync } from "node:fs";
import { createGatehouse } from "../gatehouse.ts";
import { createLogger } from "../logging/logger.ts";
import { createServerApp } from "./app.ts";
import { readEnvConfig } from "./env-config.ts";
import { redactUrl, sqliteFileOf } from "../store/open-store.ts";
import { listen } from "./start-server.ts";

/**
 * Starts the standalone server (`npm start`, `gatehouse serve`): settings from the environment
 * and `.env`; stops cleanly on SIGINT/SIGTERM. Rejects with AuthError("invalid_config") on a bad setting.
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

  const generated = [...(freshDatabase ? [`created database ${dbPath}`] : []), ...auth.startupNotes];
  logger.info(
    { url, database: dbPath ?? redactUrl(database), generated },
    `Gatehouse listening on ${url}${generated.length > 0 ? ` (first start: ${generated.join("; ")})` : ""}`,
  );

  const stop = (signal: string) => {
    logger.info({ signal }, "shutting down");
    server.close(() => void auth.close().finally(() => process.exit(0)));
    setTimeout(() => process.exit(0), 5000).unref();
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}
