import { type Naming, OPTION_NAMING, type Problem, throwFirst } from "./naming.ts";
import { resolveTree } from "./resolve.ts";
import { crossFieldProblems } from "./rules.ts";
import { OPTION_SETTINGS } from "./settings.ts";
import type { OptionsOf, ResolvedOf } from "./setting.ts";

/**
 * Everything `createGatehouse()` accepts, derived from the settings table (settings.ts), where
 * each option's range, default and meaning are written. Each is validated once, at creation; a
 * bad value fails with an AuthError("invalid_config") whose message names the option.
 */
export type GatehouseOptions = OptionsOf<typeof OPTION_SETTINGS>;

/** The validated, defaulted, frozen configuration every part of Gatehouse reads. */
export type GatehouseConfig = ResolvedOf<typeof OPTION_SETTINGS>;

/** Resolves options and lists every problem, named by `naming`; a setting with a problem keeps its default. */
export function resolveOptions(options: unknown, naming: Naming): { config: GatehouseConfig; problems: Problem[] } {
  const { value: config, problems } = resolveTree(OPTION_SETTINGS, options, naming);
  // Rules between settings only mean something once each setting is valid on its own.
  if (problems.length === 0) problems.push(...crossFieldProblems(config, naming));
  return { config, problems };
}

/**
 * Validates options and fills defaults. Throws AuthError("invalid_config") naming the option.
 *
 * @example
 * const config = resolveConfig({ loginThrottle: { perIp: { attempts: 50 } } });
 * config.loginThrottle.perIp; // { attempts: 50, windowSeconds: 900, blockSeconds: 900 }
 */
export function resolveConfig(options: GatehouseOptions = {}): GatehouseConfig {
  const { config, problems } = resolveOptions(options, OPTION_NAMING);
  throwFirst(problems);
  return config;
}
