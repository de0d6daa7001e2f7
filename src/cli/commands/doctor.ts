import type { Command } from "commander";
import { checkDatabase, checkSettings, type Finding, settingsInForce } from "../doctor-checks.ts";
import { checkFileModes, checkKeySource, checkStoredSecrets } from "../secret-checks.ts";
import { cliEnvironment, type GlobalOptions } from "../environment.ts";
import { printJson, printLines } from "../output.ts";

const LABEL: Record<Finding["status"], string> = { ok: "ok  ", warn: "warn", fail: "FAIL" };

export function registerDoctorCommand(program: Command): void {
  program
    .command("doctor")
    .description(
      "check the configuration (environment and .env) and the database; exit 1 when something is unsafe or broken",
    )
    .option("--strict", "treat warnings (such as open registration) as failures")
    .option("--settings", "also list every environment variable's value in force and where it came from")
    .option("--json", "print JSON (the settings in force included)")
    .action(async (options: { json?: boolean; strict?: boolean; settings?: boolean }, command: Command) => {
      const { reading, findings } = checkSettings(cliEnvironment(command.optsWithGlobals<GlobalOptions>()));
      const refused = new Set(findings.filter((f) => f.status === "fail").map((f) => f.setting));
      if (!refused.has("DATABASE_URL")) {
        const database = await checkDatabase(reading.config.database);
        findings.push(database);
        if (!refused.has("KEY_ENCRYPTION_KEY")) {
          const secrets = { database: reading.config.database, keyEncryptionKey: reading.config.keyEncryptionKey };
          findings.push(checkKeySource(secrets), ...checkFileModes(secrets));
          if (database.status === "ok") findings.push(await checkStoredSecrets(secrets));
        }
      }
      const failed = findings.some((f) => f.status === "fail" || (options.strict === true && f.status === "warn"));
      const settings = settingsInForce(reading);
      if (options.json) printJson({ ok: !failed, findings, settings });
      else {
        printLines(...findings.map((f) => `${LABEL[f.status]}  ${f.setting}: ${f.message}`));
        if (options.settings) printLines("", ...settings.map((s) => `${s.variable}=${s.value}  (${s.source})`));
        printLines(failed ? "Problems found: fix the FAIL lines above." : "No unsafe settings found.");
      }
      if (failed) process.exitCode = 1;
    });
}
