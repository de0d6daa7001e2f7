import type { Command } from "commander";
import { checkDatabase, checkSettings, type Finding } from "../doctor-checks.ts";
import { cliEnvironment, type GlobalOptions } from "../environment.ts";
import { printJson, printLines } from "../output.ts";

const LABEL: Record<Finding["status"], string> = { ok: "ok  ", warn: "warn", fail: "FAIL" };

export function registerDoctorCommand(program: Command): void {
  program
    .command("doctor")
    .description("check the configuration (environment and .env) and the database; exit 1 when something is unsafe or broken")
    .option("--strict", "treat warnings (such as open registration) as failures")
    .option("--json", "print JSON")
    .action(async (options: { json?: boolean; strict?: boolean }, command: Command) => {
      const { settings, findings } = checkSettings(cliEnvironment(command.optsWithGlobals<GlobalOptions>()));
      if (settings) findings.push(await checkDatabase(settings));
      const failed = findings.some((f) => f.status === "fail" || (options.strict === true && f.status === "warn"));
      if (options.json) printJson({ ok: !failed, findings });
      else {
        printLines(...findings.map((f) => `${LABEL[f.status]}  ${f.setting}: ${f.message}`));
        printLines(failed ? "Problems found: fix the FAIL lines above." : "No unsafe settings found.");
      }
      if (failed) process.exitCode = 1;
    });
}
