import { createGatehouse, type Gatehouse } from "../gatehouse.ts";
import { createLogger } from "../logging/logger.ts";
import { openStore } from "../store/open-store.ts";
import type { Store } from "../core/store/store.ts";
import { cliSettings, databaseUrl, type GlobalOptions } from "./environment.ts";

/**
 * Runs `work` with the configured database opened and migrated (every command may be the
 * first to touch a fresh database), and closes it afterwards whatever happens.
 */
export async function withStore<T>(global: GlobalOptions, work: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore(databaseUrl(cliSettings(global)));
  try {
    await store.migrate();
    return await work(store);
  } finally {
    await store.close();
  }
}

/**
 * Runs `work` with a full Gatehouse built from the configuration (keys, services), silent,
 * and closes it afterwards. `overrides` adjust options for administrative use.
 */
export async function withGatehouse<T>(
  global: GlobalOptions,
  work: (auth: Gatehouse) => Promise<T>,
  overrides: { registrationOpen?: boolean; registrationsPerIpPerHour?: number } = {},
): Promise<T> {
  const settings = cliSettings(global);
  const auth = await createGatehouse({
    ...settings.options,
    ...overrides,
    logger: createLogger({ level: "silent" }),
    // The server delivers the outbox and prunes; a command only records.
    backgroundWork: false,
  });
  try {
    return await work(auth);
  } finally {
    await auth.close();
  }
}
