import type { Outbox } from "../outbox/outbox.ts";
import type { TransactionOps } from "../store/store.ts";
import type { MailTemplateData, MailTemplateName } from "./templates.ts";

/** The outbox kind of a mail. */
export const MAIL_KIND = "mail";

/** A mail as it waits in the outbox: rendered only when it is sent, with the templates of that process. */
export interface QueuedMail {
  template: MailTemplateName;
  to: string;
  data: MailTemplateData;
}

/**
 * Queues a mail in the caller's transaction: it goes out exactly when the change that caused it
 * commits, and survives a crash after the answer. A mail holding a link is stored sealed, so the
 * database alone never holds a usable link.
 */
export function enqueueMail(outbox: Outbox, tx: TransactionOps, mail: QueuedMail): Promise<string> {
  return outbox.enqueue(tx, {
    kind: MAIL_KIND,
    payload: { template: mail.template, to: mail.to, data: { ...mail.data } },
    secret: mail.data.link !== undefined,
  });
}
