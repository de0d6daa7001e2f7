/**
 * Configuration: one table of settings (config/settings.ts) from which options, environment
 * variables, the CLI, `doctor` and docs/settings.md are all derived.
 */
import { OPTION_SETTINGS } from "./config/settings.ts";

export {
  type GatehouseConfig,
  type GatehouseOptions,
  resolveConfig,
  resolveOptions,
} from "./config/gatehouse-config.ts";
export {
  type Environment,
  type EnvironmentReading,
  readEnvironment,
  type ServerConfig,
  variableOf,
} from "./config/environment.ts";
export type { Problem } from "./config/naming.ts";
export { CLI_SETTINGS, OPTION_SETTINGS, SERVER_SETTINGS } from "./config/settings.ts";

/** The database used when none is configured. */
export const DEFAULT_DATABASE: string = OPTION_SETTINGS.database.default;
