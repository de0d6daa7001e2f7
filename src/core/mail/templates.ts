/** Every mail Gatehouse sends, by name. */
export type MailTemplateName =
  | "verify_email"
  | "reset_password"
  | "address_in_use"
  | "email_change_requested"
  | "password_changed"
  | "password_reset"
  | "refresh_reused"
  | "mfa_enabled"
  | "mfa_disabled";

/** What a template may use. `link` holds a one-time token: only the two link mails have one. */
export interface MailTemplateData {
  /** The account's username, as typed at sign-up. */
  username: string;
  /** `PUBLIC_URL`, where the demo page (or your page) lives. */
  publicUrl: string;
  /** The link to open (verify_email, reset_password). */
  link?: string;
  /** Minutes the link works (verify_email, reset_password). */
  validMinutes?: number;
  /** The new address (email_change_requested, sent to the old one). */
  newEmail?: string;
}

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

export type MailTemplate = (data: MailTemplateData) => RenderedMail;
export type MailTemplates = Record<MailTemplateName, MailTemplate>;

const escapeHtml = (value: string): string => value.replace(/[&<>"']/g, (ch) => `&#${ch.codePointAt(0)};`);

const duration = (minutes: number | undefined): string => {
  if (minutes === undefined) return "a limited time";
  return minutes % 60 === 0 ? `${minutes / 60} hours` : `${minutes} minutes`;
};

const IGNORE = "If this was you, there is nothing to do.";
const NOT_YOU = "If it was not you, reset your password now and review your sessions.";

/**
 * One layout for every mail: a plain centred card with inline styles (mail clients drop
 * <style> blocks and scripts), the button repeated as a plain URL for clients that block links.
 */
function layout(title: string, paragraphs: string[], button?: { label: string; href: string }): string {
  const p = (text: string) =>
    `<p style="margin:0 0 16px;font:16px/1.5 -apple-system,Segoe UI,Roboto,sans-serif;color:#1f2937">${text}</p>`;
  const action = button
    ? `<p style="margin:24px 0"><a href="${escapeHtml(button.href)}" style="background:#1d4ed8;color:#ffffff;` +
      `padding:12px 20px;border-radius:6px;text-decoration:none;font:600 16px -apple-system,Segoe UI,Roboto,` +
      `sans-serif;display:inline-block">${escapeHtml(button.label)}</a></p>` +
      p(
        `Or copy this address into your browser:<br><span style="word-break:break-all;color:#374151">` +
          `${escapeHtml(button.href)}</span>`,
      )
    : "";
  return (
    `<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">` +
    `<title>${escapeHtml(title)}</title></head>` +
    `<body style="margin:0;padding:24px;background:#f3f4f6">` +
    `<div style="max-width:560px;margin:0 auto;background:#ffffff;border-radius:8px;padding:32px">` +
    `<h1 style="margin:0 0 24px;font:600 22px -apple-system,Segoe UI,Roboto,sans-serif;color:#111827">` +
    `${escapeHtml(title)}</h1>${paragraphs.map((text) => p(escapeHtml(text))).join("")}${action}` +
    `</div></body></html>`
  );
}

function mail(title: string, paragraphs: string[], button?: { label: string; href: string }): RenderedMail {
  const text = [...paragraphs, ...(button ? [`${button.label}: ${button.href}`] : [])].join("\n\n");
  return { subject: title, text: `${text}\n`, html: layout(title, paragraphs, button) };
}

function linkOf(data: MailTemplateData): string {
  if (data.link === undefined) throw new Error("this mail needs a link");
  return data.link;
}

/** The mails as Gatehouse words them; replace any of them with the `emailTemplates` option. */
export const DEFAULT_TEMPLATES: MailTemplates = {
  verify_email: (data) =>
    mail(
      "Confirm your email address",
      [
        `Hello ${data.username},`,
        "Open the link below to confirm this address for your account. " +
          `It works once, for ${duration(data.validMinutes)}.`,
        "If you did not ask for this, ignore this mail: nothing changes.",
      ],
      { label: "Confirm address", href: linkOf(data) },
    ),
  reset_password: (data) =>
    mail(
      "Reset your password",
      [
        `Hello ${data.username},`,
        `Someone asked to reset the password of your account. The link below works once, for ` +
          `${duration(data.validMinutes)}, and ends every session when used.`,
        "If you did not ask for this, ignore this mail: your password stays as it is.",
      ],
      { label: "Choose a new password", href: linkOf(data) },
    ),
  address_in_use: (data) =>
    mail("Someone tried to use your email address", [
      `Hello ${data.username},`,
      "Someone tried to give this email address, which belongs to your account, to another account " +
        "(signing up, or changing an address). No other account was given it.",
      `If it was you, sign in instead: ${data.publicUrl}`,
      "Otherwise there is nothing to do.",
    ]),
  email_change_requested: (data) =>
    mail("Your account's email address is being changed", [
      `Hello ${data.username},`,
      `Someone signed in to your account asked to change its email address to ${data.newEmail ?? "a new address"}. ` +
        "The change happens when the new address is confirmed.",
      IGNORE,
      NOT_YOU,
    ]),
  password_changed: (data) =>
    mail("Your password was changed", [
      `Hello ${data.username},`,
      "The password of your account was just changed.",
      IGNORE,
      NOT_YOU,
    ]),
  password_reset: (data) =>
    mail("Your password was reset", [
      `Hello ${data.username},`,
      "The password of your account was just reset with a link sent to this address, and every session ended.",
      IGNORE,
      NOT_YOU,
    ]),
  refresh_reused: (data) =>
    mail("A session of yours was ended", [
      `Hello ${data.username},`,
      "A sign-in token of one of your sessions was used twice, which happens when it was copied. " +
        "To be safe, that session was ended; sign in again where you use it.",
      "If this keeps happening, change your password.",
    ]),
  mfa_enabled: (data) =>
    mail("A second factor was added", [
      `Hello ${data.username},`,
      "A second factor was added to your account.",
      IGNORE,
      NOT_YOU,
    ]),
  mfa_disabled: (data) =>
    mail("A second factor was removed", [
      `Hello ${data.username},`,
      "A second factor was removed from your account.",
      IGNORE,
      NOT_YOU,
    ]),
};

/** The defaults with the caller's replacements. */
export function mailTemplates(overrides: Partial<MailTemplates> = {}): MailTemplates {
  return { ...DEFAULT_TEMPLATES, ...overrides };
}

export function isMailTemplateName(value: unknown): value is MailTemplateName {
  return typeof value === "string" && Object.hasOwn(DEFAULT_TEMPLATES, value);
}
