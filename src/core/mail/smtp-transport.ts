import type { Transporter } from "nodemailer";
import { PermanentDeliveryError } from "../outbox/delivery-errors.ts";
import { AUTOMATIC_HEADERS, type MailTransport, messageIdOf } from "./mail-transport.ts";
import { loadNodemailer } from "./nodemailer.ts";

export interface SmtpTransportOptions {
  /** smtp://user:pass@host:port (STARTTLS when offered) or smtps://… (TLS from the first byte). */
  url: string;
  /** Longest wait for a connection, greeting or reply (default 10 s); the outbox bounds the whole attempt. */
  timeoutMs?: number;
}

/** The host and port for messages: the URL without its credentials. */
function describe(url: string): string {
  const parsed = new URL(url);
  return `SMTP ${parsed.protocol}//${parsed.host}`;
}

/**
 * Mail over SMTP with nodemailer. A refusal the server says is permanent (5xx: no such mailbox,
 * policy) is not retried; anything else (server down, 4xx greylisting, timeout) is.
 */
export function createSmtpTransport(options: SmtpTransportOptions): MailTransport {
  const timeout = options.timeoutMs ?? 10_000;
  let transporter: Promise<Transporter> | undefined;
  const connect = () => {
    transporter ??= loadNodemailer().then((nodemailer) =>
      nodemailer.createTransport({
        url: options.url,
        connectionTimeout: timeout,
        greetingTimeout: timeout,
        socketTimeout: timeout,
      } as Parameters<typeof nodemailer.createTransport>[0]),
    );
    return transporter;
  };
  return {
    description: describe(options.url),
    async send(mail, signal) {
      signal.throwIfAborted();
      try {
        await (await connect()).sendMail({
          from: mail.from,
          to: mail.to,
          subject: mail.subject,
          text: mail.text,
          html: mail.html,
          messageId: messageIdOf(mail),
          headers: { ...AUTOMATIC_HEADERS },
        });
      } catch (error) {
        const code = (error as { responseCode?: unknown }).responseCode;
        if (typeof code === "number" && code >= 500 && code < 600) {
          throw new PermanentDeliveryError(`SMTP server refused the mail (${code})`);
        }
        // The server's text may quote the recipient; the outbox keeps only a short reason.
        throw new Error(`SMTP delivery failed: ${(error as { code?: unknown }).code ?? "error"}`);
      }
    },
    close: async () => (await transporter)?.close(),
  };
}
