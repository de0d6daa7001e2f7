import { PermanentDeliveryError } from "../outbox/delivery-errors.ts";
import type { OutboxDelivery } from "../outbox/outbox.ts";
import type { MailTransport } from "./mail-transport.ts";
import { isMailTemplateName, type MailTemplateData, type MailTemplates } from "./templates.ts";

export interface MailHandlerOptions {
  transport: MailTransport;
  templates: MailTemplates;
  from: string;
}

/**
 * The outbox handler for mails: renders the template named in the message with the templates of
 * this process and hands the result to the transport. A message that cannot be rendered will
 * never be, so it is not retried.
 */
export function createMailHandler(options: MailHandlerOptions) {
  return async (message: OutboxDelivery, signal: AbortSignal): Promise<void> => {
    const { template, to, data } = message.payload;
    if (!isMailTemplateName(template) || typeof to !== "string" || typeof data !== "object" || data === null) {
      throw new PermanentDeliveryError("malformed mail message");
    }
    let rendered: ReturnType<MailTemplates[typeof template]>;
    try {
      rendered = options.templates[template](data as MailTemplateData);
    } catch {
      throw new PermanentDeliveryError(`the ${template} template failed`);
    }
    await options.transport.send({ id: message.id, from: options.from, to, ...rendered }, signal);
  };
}
