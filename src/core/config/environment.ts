import type { Kind } from "./kinds.ts";
import { environmentNaming, type Problem } from "./naming.ts";
import { type GatehouseConfig, type GatehouseOptions, resolveOptions } from "./gatehouse-config.ts";
import { resolveTree } from "./resolve.ts";
import { entriesOf, type ResolvedOf, type SettingEntry } from "./setting.ts";
import { OPTION_SETTINGS, SERVER_SETTINGS } from "./settings.ts";

export type Environment = Readonly<Record<string, string | undefined>>;

/** Settings of the standalone server itself (not of the library). */
export type ServerConfig = ResolvedOf<typeof SERVER_SETTINGS>;

/** One environment variable and the settings it feeds (usually one; `LOGIN_WINDOW` feeds four). */
export interface Variable {
  readonly name: string;
  readonly target: "options" | "server";
  readonly entries: readonly SettingEntry[];
  /** The kind of its text, over the range every fed setting accepts. */
  readonly kind: Kind<unknown>;
  readonly sensitive: boolean;
}

function variablesOf(target: Variable["target"], entries: SettingEntry[]): Variable[] {
  const byName = new Map<string, SettingEntry[]>();
  for (const entry of entries) {
    if (entry.setting.env === undefined) continue;
    byName.set(entry.setting.env, [...(byName.get(entry.setting.env) ?? []), entry]);
  }
  return [...byName].map(([name, fed]) => {
    const first = fed[0]!.setting.kind;
    const ranges = fed.map((entry) => entry.setting.kind.range);
    const kind =
      fed.length > 1 && first.within && ranges.every((range) => range !== undefined)
        ? first.within(Math.max(...ranges.map((r) => r.min)), Math.min(...ranges.map((r) => r.max)))
        : first;
    return { name, target, entries: fed, kind, sensitive: fed.some((entry) => entry.setting.sensitive === true) };
  });
}

/** Every environment variable Gatehouse reads, in table order. */
export const VARIABLES: readonly Variable[] = [
  ...variablesOf("options", entriesOf(OPTION_SETTINGS)),
  ...variablesOf("server", entriesOf(SERVER_SETTINGS)),
];

const variableByPath = new Map(
  VARIABLES.flatMap((variable) => variable.entries.map((entry) => [entry.path, variable.name])),
);

/** The environment variable of an option path, if it has one. */
export function variableOf(path: string): string | undefined {
  return variableByPath.get(path);
}

const ENVIRONMENT_NAMING = environmentNaming(variableOf);

export interface EnvironmentReading {
  /** Only what the environment set, as options for `createGatehouse()` (which fills in the rest). */
  readonly options: GatehouseOptions;
  /** Those options resolved: what `createGatehouse()` will run with. */
  readonly config: GatehouseConfig;
  readonly server: ServerConfig;
  /** Every bad variable; each one then keeps its default in `config` and `server`. */
  readonly problems: readonly Problem[];
  /** The variables that were set (blank counts as unset). */
  readonly set: ReadonlySet<string>;
}

function setAt(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split(".");
  let node = target;
  for (const key of keys.slice(0, -1)) node = (node[key] ??= {}) as Record<string, unknown>;
  node[keys.at(-1)!] = value;
}

/** Text of one variable → its value, checked against every setting it feeds. */
function readVariable(variable: Variable, raw: string): { ok: true; value: unknown } | { ok: false; problem: Problem } {
  const got = variable.sensitive ? "" : ` (got ${JSON.stringify(raw.length > 40 ? `${raw.slice(0, 40)}…` : raw)})`;
  const path = variable.entries[0]!.path;
  const fail = (message: string) => ({ ok: false as const, problem: { path, setting: variable.name, message } });
  const value = variable.kind.fromText?.(raw);
  let checked: unknown = value;
  for (const { setting } of variable.entries) {
    const parsed = value === undefined ? undefined : setting.kind.schema.safeParse(value);
    if (!parsed?.success) return fail(`${variable.name} must be ${variable.kind.expectedText}${got}.`);
    const refused = setting.kind.check?.(parsed.data, variable.name);
    if (refused !== undefined) return fail(refused);
    checked = parsed.data;
  }
  return { ok: true, value: checked };
}

/**
 * Environment → settings, through the same table and checks as options in code. Text is
 * parsed per setting (durations like `15m`, booleans, comma-separated lists); a bad variable is
 * reported by its name. Blank variables count as unset; variables Gatehouse does not know are
 * ignored (the environment is shared with everything else).
 */
export function readEnvironment(env: Environment): EnvironmentReading {
  const inputs: Record<Variable["target"], Record<string, unknown>> = { options: {}, server: {} };
  const problems: Problem[] = [];
  const set = new Set<string>();
  for (const variable of VARIABLES) {
    const raw = env[variable.name];
    if (raw === undefined || raw.trim() === "") continue;
    set.add(variable.name);
    const read = readVariable(variable, raw);
    if (!read.ok) problems.push(read.problem);
    else for (const entry of variable.entries) setAt(inputs[variable.target], entry.path, read.value);
  }
  // A bad variable was not copied into the inputs: its setting keeps the default from here on.
  const resolved = resolveOptions(inputs.options, ENVIRONMENT_NAMING);
  const server = resolveTree(SERVER_SETTINGS, inputs.server, ENVIRONMENT_NAMING);
  return {
    options: inputs.options as GatehouseOptions,
    config: resolved.config,
    server: server.value,
    problems: [...problems, ...resolved.problems, ...server.problems],
    set,
  };
}
