import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Command } from "commander";
import type { ParsedMail } from "mailparser";
import { AuthError } from "../../core/errors.ts";
import { cliSettings, type GlobalOptions } from "../environment.ts";
import { printJson, printLines, printTable } from "../output.ts";
import { UsageError } from "../usage-error.ts";

/** Outbox files are named by their outbox id (a UUID). */
const MAIL_ID = /^[A-Za-z0-9-]{1,64}$/;

interface MailSummary {
  id: string;
  date: string | null;
  from: string;
  to: string;
  subject: string;
}

function summarise(id: string, mail: ParsedMail): MailSummary {
  const addresses = (field: ParsedMail["to"]) =>
    (Array.isArray(field) ? field : field ? [field] : []).map((a) => a.text).join(", ");
  return {
    id,
    date: mail.date ? mail.date.toISOString() : null,
    from: mail.from?.text ?? "",
    to: addresses(mail.to),
    subject: mail.subject ?? "",
  };
}

function outboxDirectory(command: Command): string {
  return cliSettings(command.optsWithGlobals<GlobalOptions>()).config.email.outboxDir;
}

/** The .eml files, oldest first; a missing directory is an empty outbox. */
async function listIds(directory: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(directory);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  const ids = names.filter((name) => name.endsWith(".eml")).map((name) => name.slice(0, -4));
  const times = await Promise.all(ids.map(async (id) => (await stat(join(directory, `${id}.eml`))).mtimeMs));
  return ids
    .map((id, i) => ({ id, time: times[i] ?? 0 }))
    .sort((a, b) => a.time - b.time)
    .map((entry) => entry.id);
}

async function readMail(directory: string, id: string): Promise<ParsedMail> {
  // Loaded here, not at the top: every other CLI command would pay for the parser at start-up.
  const { simpleParser } = await import("mailparser");
  return simpleParser(await readFile(join(directory, `${id}.eml`)));
}

/**
 * `gatehouse mail list|show`: reads the mails a server without SMTP_URL wrote to its outbox
 * directory. Everything printed goes through the terminal-safe output (a subject or body is
 * text someone else chose).
 */
export function registerMailCommand(program: Command): void {
  const mail = program
    .command("mail")
    .description("read the mails written to the outbox directory when no SMTP_URL is set (development)");

  mail
    .command("list")
    .description("list the mails in the outbox directory, oldest first")
    .option("--json", "print JSON")
    .action(async (options: { json?: boolean }, command: Command) => {
      const directory = outboxDirectory(command);
      const ids = await listIds(directory);
      const rows = await Promise.all(ids.map(async (id) => summarise(id, await readMail(directory, id))));
      if (options.json) return printJson(rows);
      if (rows.length === 0) return printLines(`No mails in ${directory}.`);
      printTable(
        ["ID", "DATE", "TO", "SUBJECT"],
        rows.map((row) => [row.id, row.date, row.to, row.subject]),
      );
    });

  mail
    .command("show")
    .description("print one mail: its headers and plain-text part (links included)")
    .argument("<id>", "the mail's id, as `gatehouse mail list` shows it")
    .option("--json", "print JSON, with the HTML part")
    .action(async (id: string, options: { json?: boolean }, command: Command) => {
      if (!MAIL_ID.test(id)) throw new UsageError("A mail id is letters, digits and dashes, as `mail list` shows.");
      const directory = outboxDirectory(command);
      let parsed: ParsedMail;
      try {
        parsed = await readMail(directory, id);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
        throw new AuthError("not_found", `No mail ${id} in ${directory}. List them with \`gatehouse mail list\`.`);
      }
      const summary = summarise(id, parsed);
      if (options.json) {
        return printJson({
          ...summary,
          text: parsed.text ?? "",
          html: typeof parsed.html === "string" ? parsed.html : "",
        });
      }
      printLines(
        `From: ${summary.from}`,
        `To: ${summary.to}`,
        `Date: ${summary.date ?? ""}`,
        `Subject: ${summary.subject}`,
        "",
        ...(parsed.text ?? "").replace(/\n$/, "").split("\n"),
      );
    });
}
