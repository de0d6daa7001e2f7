import {
  type Environment,
  type GatehouseConfig,
  type GatehouseOptions,
  readEnvironment,
  type ServerConfig,
} from "../core/config.ts";
import { AuthError } from "../core/errors.ts";

export interface ServerSettings extends ServerConfig {
  /** What the environment set, as options for `createGatehouse()`. */
  options: GatehouseOptions;
  /** Those options resolved: the values the server runs with. */
  config: GatehouseConfig;
}

/**
 * Environment → settings, through the settings table (src/core/config/settings.ts). Every
 * variable is checked here, at start-up; a bad one stops the server with one line naming it.
 * The full list is docs/settings.md.
 */
export function readEnvConfig(env: Environment): ServerSettings {
  const reading = readEnvironment(env);
  const problem = reading.problems[0];
  if (problem) throw new AuthError("invalid_config", problem.message);
  return { ...reading.server, options: reading.options, config: reading.config };
}
