import { chmod, mkdir, rename, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Transporter } from "nodemailer";
import { AUTOMATIC_HEADERS, type MailTransport, messageIdOf } from "./mail-transport.ts";
import { loadNodemailer } from "./nodemailer.ts";

export interface FileTransportOptions {
  directory: string;
  /** One line per mail, naming the file and the recipient, never the link. */
  log: { info(fields: object, message: string): void };
}

/** Outbox ids are UUIDs; anything else must never become part of a path. */
const SAFE_ID = /^[A-Za-z0-9-]{1,64}$/;

/**
 * Zero-config mail: each message is written as an RFC 5322 `.eml` file (what a mail client
 * opens) named by its outbox id, so a retry rewrites the same file. The directory is 0700 and
 * each file 0600: the links in them sign people in. `gatehouse mail list|show` reads them.
 */
export function createFileTransport(options: FileTransportOptions): MailTransport {
  const directory = resolve(options.directory);
  let builder: Promise<Transporter> | undefined;
  const build = () => {
    builder ??= loadNodemailer().then((nodemailer) =>
      nodemailer.createTransport({ streamTransport: true, buffer: true, newline: "unix" }),
    );
    return builder;
  };
  return {
    description: `files in ${options.directory}`,
    async send(mail, signal) {
      if (!SAFE_ID.test(mail.id)) throw new Error("unexpected outbox id");
      const info = await (await build()).sendMail({
        from: mail.from,
        to: mail.to,
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
        messageId: messageIdOf(mail),
        headers: { ...AUTOMATIC_HEADERS },
      });
      signal.throwIfAborted();
      await mkdir(directory, { recursive: true, mode: 0o700 });
      await chmod(directory, 0o700);
      const file = join(directory, `${mail.id}.eml`);
      const staging = `${file}.tmp`;
      await writeFile(staging, info.message as Buffer, { mode: 0o600 });
      await chmod(staging, 0o600);
      await rename(staging, file);
      options.log.info({ file, to: mail.to }, "mail written to the outbox directory (no SMTP_URL set)");
    },
    close: () => undefined,
  };
}
