import { settingRows, sharedVariables, type SettingRow } from "./listing.ts";

const cell = (text: string) => text.replaceAll("|", "\\|");
const code = (text: string | undefined) => (text === undefined ? "—" : `\`${text}\``);

function table(headers: string[], rows: string[][]): string[] {
  return [
    `| ${headers.join(" | ")} |`,
    `|${headers.map(() => "---").join("|")}|`,
    ...rows.map((row) => `| ${row.map(cell).join(" | ")} |`),
  ];
}

const optionRow = (row: SettingRow) => [code(row.variable), code(row.path), row.defaultText, row.allowed, row.doc];
const serverRow = (row: SettingRow) => [code(row.variable), row.defaultText, row.allowed, row.doc];
const cliRow = (row: SettingRow) => [code(row.flag), row.defaultText, row.allowed, row.doc];

/** docs/settings.md, generated from the settings table (`npm run docs:settings`). */
export function renderSettingsMarkdown(): string {
  const rows = settingRows();
  const of = (scope: SettingRow["scope"]) => rows.filter((row) => row.scope === scope);
  return [
    "# Settings",
    "",
    "<!-- Generated from src/core/config/settings.ts by `npm run docs:settings`; do not edit by hand. -->",
    "",
    "Every setting is checked once, at start-up. A bad one stops the server (or `createGatehouse()`) with",
    "one line naming it the way it was set: the environment variable (`LOGIN_MAX_ATTEMPTS must be …`)",
    'or the option path (`Gatehouse option "loginThrottle.perAccountAndIp.attempts" must be …`).',
    "`npx gatehouse doctor` checks the same settings, lists every bad one, and with `--settings`",
    "shows the value in force for each variable.",
    "",
    "In the environment (and `.env`), durations are written `900`, `30s`, `15m`, `12h` or `7d`;",
    "options take whole seconds. A blank variable counts as unset. Ranges include both ends.",
    "",
    "## Library options and their environment variables",
    "",
    "Options of `createGatehouse()`; the standalone server reads the variable.",
    "",
    ...sharedVariables().map(
      (shared) => `\`${shared.name}\` sets ${shared.paths.map(code).join(", ")} at once; it accepts ${shared.allowed}.`,
    ),
    "",
    ...table(["variable", "option", "default", "allowed", "meaning"], of("option").map(optionRow)),
    "",
    "## Standalone server",
    "",
    ...table(["variable", "default", "allowed", "meaning"], of("server").map(serverRow)),
    "",
    "## Command line",
    "",
    ...table(["flag", "default", "allowed", "meaning"], of("cli").map(cliRow)),
    "",
  ].join("\n");
}
