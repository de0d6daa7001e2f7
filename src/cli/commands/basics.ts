import { randomBytes } from "node:crypto";
import type { Command } from "commander";
import { redactUrl } from "../../store/open-store.ts";
import { startServer } from "../../server/start.ts";
import { withStore } from "../connect.ts";
import { cliEnvironment, cliSettings, databaseUrl, type GlobalOptions } from "../environment.ts";
import { printJson, printLines } from "../output.ts";

/** `serve`, `secret` and `migrate`. */
export function registerBasicCommands(program: Command): void {
  program
    .command("serve")
    .description("run the Gatehouse server (like npm start), configured from the environment and .env")
    .action(async (_options: unknown, command: Command) => {
      await startServer(cliEnvironment(command.optsWithGlobals<GlobalOptions>()));
    });

  program
    .command("secret")
    .description("print a new random secret (64 bytes, hex) for ACCESS_TOKEN_SECRET")
    .option("--json", "print JSON")
    .action((options: { json?: boolean }) => {
      const secret = randomBytes(64).toString("hex");
      if (options.json) printJson({ secret });
      else printLines(secret);
    });

  program
    .command("migrate")
    .description("create or upgrade the database schema (idempotent)")
    .action(async (_options: unknown, command: Command) => {
      const global = command.optsWithGlobals<GlobalOptions>();
      await withStore(global, async () => undefined);
      printLines(`Database schema is up to date (${redactUrl(databaseUrl(cliSettings(global)))}).`);
    });
}
