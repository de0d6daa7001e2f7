import { Command } from "commander";
import { registerAuditCommand } from "./commands/audit.ts";
import { registerBasicCommands } from "./commands/basics.ts";
import { registerDoctorCommand } from "./commands/doctor.ts";
import { registerKeysCommand } from "./commands/keys.ts";
import { registerMailCommand } from "./commands/mail.ts";
import { registerSessionsCommand } from "./commands/sessions.ts";
import { registerTokenCommand } from "./commands/token.ts";
import { registerUsersCommand } from "./commands/users.ts";
import { terminalSafeLines } from "./output.ts";

/**
 * The `gatehouse` command tree (CONTRACT §5). Commander errors are thrown, not exited on
 * (`exitOverride`), so main.ts decides exit codes; its messages get the `gatehouse:` prefix.
 * Settings are inherited by every subcommand added after them.
 */
export function createProgram(version: string): Command {
  const program = new Command("gatehouse")
    .description(
      "Gatehouse: JWT authentication for Express. Configured from the environment and .env (see the README).",
    )
    .version(version, "-V, --version")
    .option("--database <url>", "database to use instead of DATABASE_URL (sqlite:<path> or postgres://…)")
    .exitOverride()
    .configureHelp({ showGlobalOptions: true })
    .configureOutput({
      // Commander repeats the command line in its messages: escaped like every other output.
      outputError: (text, write) => write(`gatehouse: ${terminalSafeLines(text.replace(/^error: /, ""))}`),
    });
  registerBasicCommands(program);
  registerKeysCommand(program);
  registerUsersCommand(program);
  registerSessionsCommand(program);
  registerTokenCommand(program);
  registerDoctorCommand(program);
  registerAuditCommand(program);
  registerMailCommand(program);
  return program;
}
