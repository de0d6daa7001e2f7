import type { RenderedMail } from "./templates.ts";

/** A rendered mail ready to leave: `id` is the outbox message's, the same on every attempt. */
export interface OutgoingMail extends RenderedMail {
  id: string;
  from: string;
  to: string;
}

/** Where mail goes: an SMTP server, or .eml files in development. */
export interface MailTransport {
  /** Resolves once the mail was accepted; throws to have it tried again later. */
  send(mail: OutgoingMail, signal: AbortSignal): Promise<void>;
  /** Words for the start-up line: "SMTP smtp.example.com:587" or "files in ./data/outbox". */
  readonly description: string;
  close(): void;
}

/** The Message-ID: stable across retries, so a receiving server or client can drop a duplicate. */
export function messageIdOf(mail: OutgoingMail): string {
  const at = mail.from.lastIndexOf("@");
  const domain = at >= 0 ? mail.from.slice(at + 1).replace(/[>\s].*$/, "") : "";
  return `<${mail.id}@${domain || "gatehouse.invalid"}>`;
}

/** Headers every Gatehouse mail carries: it is automatic (RFC 3834), so vacation responders stay quiet. */
export const AUTOMATIC_HEADERS = { "Auto-Submitted": "auto-generated" } as const;
