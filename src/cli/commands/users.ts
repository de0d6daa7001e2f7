import type { Command } from "commander";
import { AuthError } from "../../core/errors.ts";
import type { Store, UserRecord } from "../../core/store/store.ts";
import { normalizeUsername } from "../../core/users/username.ts";
import { withGatehouse, withStore } from "../connect.ts";
import type { GlobalOptions } from "../environment.ts";
import { isoTime, printJson, printLines, printTable, readStdin } from "../output.ts";
import { UsageError } from "../usage-error.ts";

/** What the CLI shows of a user: never the password hash. */
function describeUser(user: UserRecord) {
  return {
    id: user.id,
    username: user.username,
    createdAt: isoTime(user.createdAt),
    disabledAt: isoTime(user.disabledAt),
    roles: user.roles,
  };
}

/** Finds a user by name the way login does, or fails with not_found. */
export async function requireUser(store: Pick<Store, "findUserByUsername">, username: string): Promise<UserRecord> {
  const user = await store.findUserByUsername(normalizeUsername(username));
  if (!user)
    throw new AuthError(
      "not_found",
      `No user named "${username.slice(0, 64)}". List them with \`gatehouse users list\`.`,
    );
  return user;
}

/** The new password: from stdin with --password-stdin, else GATEHOUSE_PASSWORD. Never from argv. */
async function newPassword(fromStdin: boolean | undefined): Promise<string> {
  if (fromStdin) {
    const text = (await readStdin()).replace(/\r?\n$/, "");
    if (text === "") throw new UsageError("--password-stdin read an empty password.");
    return text;
  }
  const fromEnv = process.env["GATEHOUSE_PASSWORD"];
  if (fromEnv) return fromEnv;
  throw new UsageError(
    "give the password on stdin with --password-stdin, or in GATEHOUSE_PASSWORD (never as an argument).",
  );
}

async function setDisabled(command: Command, username: string, disabled: boolean): Promise<void> {
  const user = await withGatehouse(command.optsWithGlobals<GlobalOptions>(), async (auth) => {
    const found = await requireUser(auth.store, username);
    await auth.service.setUserDisabled(found.id, disabled);
    return found;
  });
  printLines(disabled ? `Disabled ${user.username}; their sessions have ended.` : `Enabled ${user.username}.`);
}

export function registerUsersCommand(program: Command): void {
  const users = program.command("users").description("add, list, disable and enable accounts");

  users
    .command("add")
    .description(
      "create an account (works while registration is closed); password from --password-stdin or GATEHOUSE_PASSWORD",
    )
    .argument("<username>", "the new username")
    .option("--password-stdin", "read the password from standard input")
    .option("--json", "print JSON")
    .action(async (username: string, options: { passwordStdin?: boolean; json?: boolean }, command: Command) => {
      const password = await newPassword(options.passwordStdin);
      const user = await withGatehouse(
        command.optsWithGlobals<GlobalOptions>(),
        (auth) => auth.service.register(username, password, { ip: "127.0.0.1", userAgent: "gatehouse-cli" }),
        { registrationOpen: true },
      );
      if (options.json) return printJson(user);
      printLines(`Created user ${user.username} (id ${user.id}).`);
    });

  users
    .command("list")
    .description("list accounts")
    .option("--json", "print JSON")
    .action(async (options: { json?: boolean }, command: Command) => {
      const rows = await withStore(command.optsWithGlobals<GlobalOptions>(), async (store) =>
        (await store.listUsers()).map(describeUser),
      );
      if (options.json) return printJson(rows);
      if (rows.length === 0) return printLines("No users yet.");
      printTable(
        ["USERNAME", "ID", "CREATED", "DISABLED", "ROLES"],
        rows.map((u) => [u.username, u.id, u.createdAt, u.disabledAt, u.roles.join(",")]),
      );
    });

  users
    .command("mfa-reset")
    .description("remove every second factor of an account (lost device) and end all its sessions")
    .argument("<username>")
    .option("--json", "print JSON")
    .action(async (username: string, options: { json?: boolean }, command: Command) => {
      const outcome = await withGatehouse(command.optsWithGlobals<GlobalOptions>(), async (auth) => {
        const user = await requireUser(auth.store, username);
        const removed = await auth.mfa.resetAll(user.id, async (tx, removedAny) => {
          const ended = await tx.endUserSessions(user.id, Date.now(), "mfa_reset");
          if (!removedAny) return;
          await auth.events.record(tx, {
            type: "mfa_disabled",
            userId: user.id,
            data: { by: "administrator", sessions_ended: ended },
          });
          // Queued here, sent by a running server's outbox worker.
          await auth.email.notify(tx, user, "mfa_disabled");
        });
        return { user, removed };
      });
      const { user, removed } = outcome;
      if (options.json) return printJson({ id: user.id, username: user.username, removed });
      printLines(
        removed
          ? `Removed the second factors of ${user.username}; their sessions have ended. They log in with the password alone.`
          : `${user.username} had no second factor; their sessions have ended all the same.`,
      );
    });

  users
    .command("disable")
    .description("disable an account and end all its sessions")
    .argument("<username>")
    .action((username: string, _options: unknown, command: Command) => setDisabled(command, username, true));

  users
    .command("enable")
    .description("re-enable a disabled account")
    .argument("<username>")
    .action((username: string, _options: unknown, command: Command) => setDisabled(command, username, false));
}
