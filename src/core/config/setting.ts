import type { Kind } from "./kinds.ts";

const IS_SETTING: unique symbol = Symbol("gatehouse.setting");

/** One setting: its values, default, where a user can set it, and one line of documentation. */
export interface Setting<T> {
  readonly [IS_SETTING]: true;
  readonly kind: Kind<T>;
  /** The value when nobody sets it. */
  readonly default: T;
  /** Computes the default at resolution instead (e.g. from the machine's cores); `default` is then an example. */
  readonly defaultFrom?: () => T;
  /** The default in words, when `default` alone would mislead the docs. */
  readonly defaultDoc?: string;
  /** The server's environment variable, if any. Several settings may share one (`LOGIN_WINDOW`). */
  readonly env?: string;
  /** The command-line flag, for settings only the CLI has. */
  readonly flag?: string;
  /** A secret or a URL with credentials: its value is never echoed in a message or listing. */
  readonly sensitive?: boolean;
  /** One line for the docs. */
  readonly doc: string;
}

type SettingFields<T> = Omit<Setting<T>, typeof IS_SETTING | "kind">;

/** Declares a setting of `kind`; the table in settings.ts is made of these. */
export function setting<T>(kind: Kind<T>, fields: SettingFields<NoInfer<T>>): Setting<T> {
  return Object.freeze({ [IS_SETTING]: true as const, kind, ...fields });
}

export function isSetting(node: unknown): node is Setting<unknown> {
  return typeof node === "object" && node !== null && IS_SETTING in node;
}

/** Settings nested the way the options object is. */
export interface SettingTree {
  readonly [key: string]: Setting<unknown> | SettingTree;
}

/** What a user may pass: every leaf optional. */
export type OptionsOf<S> = S extends Setting<infer T> ? T : { [K in keyof S]?: OptionsOf<S[K]> };

/** What components receive: every leaf present, nothing writable. */
export type ResolvedOf<S> = S extends Setting<infer T> ? T : { readonly [K in keyof S]: ResolvedOf<S[K]> };

/** Dotted paths of every leaf: "loginThrottle.perIp.attempts". */
export type PathOf<S, Prefix extends string = ""> = {
  [K in keyof S & string]: S[K] extends Setting<unknown> ? `${Prefix}${K}` : PathOf<S[K], `${Prefix}${K}.`>;
}[keyof S & string];

/** A leaf with its dotted path. */
export interface SettingEntry {
  readonly path: string;
  readonly setting: Setting<unknown>;
}

/** Every leaf of `tree`, in table order. */
export function entriesOf(tree: SettingTree, prefix = ""): SettingEntry[] {
  return Object.entries(tree).flatMap(([key, node]) =>
    isSetting(node) ? [{ path: `${prefix}${key}`, setting: node }] : entriesOf(node, `${prefix}${key}.`),
  );
}

/** The default of a setting, computed now when it has `defaultFrom`. */
export function defaultOf<T>(setting: Setting<T>): T {
  return setting.defaultFrom ? setting.defaultFrom() : setting.default;
}

/** The value at a dotted path of a resolved tree. */
export function valueAt(resolved: unknown, path: string): unknown {
  let node = resolved;
  for (const key of path.split("."))
    node = typeof node === "object" && node !== null ? (node as Record<string, unknown>)[key] : undefined;
  return node;
}
