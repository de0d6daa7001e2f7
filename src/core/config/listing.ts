import { VARIABLES, variableOf } from "./environment.ts";
import { entriesOf, type Setting, type SettingEntry } from "./setting.ts";
import { CLI_SETTINGS, OPTION_SETTINGS, SERVER_SETTINGS } from "./settings.ts";

/** One setting as the docs and `doctor` list it. */
export interface SettingRow {
  /**
   * `option`: a `createGatehouse()` option (most have a variable too); `server`: the standalone
   * server's; `cli`: a command's flag.
   */
  readonly scope: "option" | "server" | "cli";
  /** Dotted path in its table; for options, the option's name. */
  readonly path: string;
  readonly variable: string | undefined;
  readonly flag: string | undefined;
  /** The default as the docs write it (Markdown). */
  readonly defaultText: string;
  /** The allowed values in a few words. */
  readonly allowed: string;
  readonly doc: string;
  readonly setting: Setting<unknown>;
}

function rowOf(scope: SettingRow["scope"], { path, setting }: SettingEntry): SettingRow {
  const { kind } = setting;
  const inCode = kind.show(setting.default);
  const asText = setting.env !== undefined || setting.flag !== undefined ? kind.showText(setting.default) : "";
  // Options show the value as code writes it, and the environment's spelling when it differs.
  const shown = scope !== "option" && asText !== "" ? `\`${asText}\`` : `\`${inCode}\``;
  const defaultText =
    setting.defaultDoc ??
    (scope === "option" && asText !== "" && asText !== inCode ? `${shown} (\`${asText}\`)` : shown);
  return {
    scope,
    path,
    variable: scope === "cli" ? undefined : variableOf(path),
    flag: setting.flag,
    defaultText,
    allowed: kind.summary,
    doc: setting.doc,
    setting,
  };
}

/** Every setting: options, then the server's, then the CLI's, each in table order. */
export function settingRows(): SettingRow[] {
  return [
    ...entriesOf(OPTION_SETTINGS).map((entry) => rowOf("option", entry)),
    ...entriesOf(SERVER_SETTINGS).map((entry) => rowOf("server", entry)),
    ...entriesOf(CLI_SETTINGS).map((entry) => rowOf("cli", entry)),
  ];
}

/** Variables that feed several settings, with the range they accept (the narrowest of those settings'). */
export function sharedVariables(): { name: string; paths: string[]; allowed: string }[] {
  return VARIABLES.filter((variable) => variable.entries.length > 1).map((variable) => ({
    name: variable.name,
    paths: variable.entries.map((entry) => entry.path),
    allowed: variable.kind.summary,
  }));
}
