import type { Clock } from "../clock.ts";
import { AuthError } from "../errors.ts";
import type { SecurityEvents } from "../events/security-events.ts";
import { enqueueMail } from "../mail/mail-queue.ts";
import type { MailTemplateName } from "../mail/templates.ts";
import type { Outbox, OutboxDelivery } from "../outbox/outbox.ts";
import type { PasswordHasher } from "../passwords/argon2-hasher.ts";
import { normalizePassword } from "../passwords/password-policy.ts";
import type { MailTokenPurpose, MailTokenRecord, Store, TransactionOps, UserRecord } from "../store/store.ts";
import { EmailTakenError } from "../store/users.ts";
import { throttleIp } from "../throttle/throttle-keys.ts";
import { emailKey, validateEmail } from "./email-address.ts";
import { MAIL_TOKEN_SHAPE, mailTokenHash, newMailToken } from "./mail-token.ts";

/** The outbox kind that turns a "forgot password" request into a reset mail, off the request path. */
export const RESET_REQUEST_KIND = "password_reset_request";

const MINUTE_MS = 60_000;
/** How long links work: long enough for a slow mailbox, short for the one that signs in. */
export const LINK_LIFETIME_MINUTES: Record<MailTokenPurpose, number> = { verify_email: 24 * 60, reset_password: 30 };
const FRAGMENT: Record<MailTokenPurpose, string> = { verify_email: "verify", reset_password: "reset" };

export interface EmailServiceParts {
  store: Store;
  clock: Clock;
  outbox: Outbox;
  hasher: PasswordHasher;
  checkPasswordPolicy: (password: string, context: { username: string }) => Promise<void> | void;
  /** Where links point (no trailing slash). */
  publicUrl: string;
  /** Mail requests (forgot, resend, change) per client address and per email address. */
  perIp: { consume(key: string): Promise<void> };
  perAddress: { consume(key: string): Promise<void> };
  log: { warn(fields: object, message: string): void };
  /** The audit trail: verifications, address changes and resets are recorded with the change. */
  events?: Pick<SecurityEvents, "record"> | undefined;
}

const invalidLink = () =>
  new AuthError("invalid_link", "This link is not valid: it was already used, has expired, or a newer one was sent.");

/** A link that exists, is of this purpose, unused and unexpired. */
const usable = (record: MailTokenRecord | null, purpose: MailTokenPurpose, now: number): record is MailTokenRecord =>
  record?.purpose === purpose && record.usedAt === null && record.expiresAt > now;

/** A verified address, if the account has one: notices go only there. */
const verifiedAddress = (user: UserRecord): string | null =>
  user.email && user.emailVerifiedAt !== null && user.emailVerifiedAt !== undefined ? user.email : null;

/**
 * Verified addresses and account recovery: links by mail (hashed, single use, bound to purpose
 * and address, the newest one only), security notices, and the work behind the email routes.
 * Every mail is queued in the transaction of the change that caused it.
 */
export class EmailService {
  readonly #p: EmailServiceParts;

  constructor(parts: EmailServiceParts) {
    this.#p = parts;
  }

  /** Issues a link of `purpose` for `email` (voiding older ones) and queues its mail, in `tx`. */
  async sendLink(tx: TransactionOps, user: UserRecord, purpose: MailTokenPurpose, email: string): Promise<void> {
    const now = this.#p.clock.now();
    const token = newMailToken();
    await tx.voidMailTokens(user.id, purpose, now);
    await tx.insertMailToken({
      hash: mailTokenHash(token),
      userId: user.id,
      purpose,
      email,
      createdAt: now,
      expiresAt: now + LINK_LIFETIME_MINUTES[purpose] * MINUTE_MS,
      usedAt: null,
    });
    await enqueueMail(this.#p.outbox, tx, {
      template: purpose,
      to: email,
      data: {
        username: user.username,
        publicUrl: this.#p.publicUrl,
        link: `${this.#p.publicUrl}/#${FRAGMENT[purpose]}=${token}`,
        validMinutes: LINK_LIFETIME_MINUTES[purpose],
      },
    });
  }

  /** Queues a notice to `to` about `user`'s account, in `tx`. */
  async sendNotice(
    tx: TransactionOps,
    user: UserRecord,
    template: MailTemplateName,
    to: string,
    extra: { newEmail?: string } = {},
  ): Promise<void> {
    await enqueueMail(this.#p.outbox, tx, {
      template,
      to,
      data: { username: user.username, publicUrl: this.#p.publicUrl, ...extra },
    });
  }

  /** A security notice to the account's verified address, if it has one, in `tx`. */
  async notify(tx: TransactionOps, user: UserRecord, template: MailTemplateName): Promise<void> {
    const to = verifiedAddress(user);
    if (to !== null) await this.sendNotice(tx, user, template, to);
  }

  /**
   * A security notice in a transaction of its own, for changes made elsewhere (a second factor
   * added or removed, a password changed). A failure is logged, never thrown: the change stands.
   */
  async notifyUser(userId: string, template: MailTemplateName): Promise<void> {
    try {
      await this.#p.store.transaction(async (tx) => {
        const user = await tx.findUserById(userId);
        if (user) await this.notify(tx, user, template);
      });
    } catch (error) {
      this.#p.log.warn({ err: error, template }, "could not queue a security notice");
    }
  }

  /** POST /auth/email/verify: the address the link was sent to becomes the account's, verified. */
  async verify(token: string): Promise<void> {
    const hash = this.#hashOf(token);
    await this.#p.store.transaction(async (tx) => {
      const now = this.#p.clock.now();
      const record = await tx.findMailToken(hash);
      if (!usable(record, "verify_email", now)) throw invalidLink();
      const user = await tx.findUserById(record.userId);
      if (!user || user.disabledAt !== null || !(await tx.useMailToken(hash, now))) throw invalidLink();
      const previous = verifiedAddress(user);
      try {
        await tx.setUserEmail(user.id, record.email, now);
      } catch (error) {
        // Another account verified the address first: this link can no longer apply.
        if (error instanceof EmailTakenError) throw invalidLink();
        throw error;
      }
      const changed = previous !== null && emailKey(previous) !== emailKey(record.email);
      await this.#p.events?.record(tx, { type: changed ? "email_changed" : "email_verified", userId: user.id });
    });
  }

  /** POST /auth/email/resend: a new verification link to the account's unverified address. */
  async resend(userId: string, ip: string): Promise<void> {
    const user = await this.#p.store.findUserById(userId);
    if (!user || user.disabledAt !== null) {
      throw new AuthError("invalid_token", "This account is not active.", { tokenPresented: true });
    }
    if (!user.email) {
      throw new AuthError("invalid_request", "This account has no email address. Add one with POST /auth/email.");
    }
    await this.#throttle(ip, user.email);
    if (verifiedAddress(user) !== null) return;
    const email = user.email;
    await this.#p.store.transaction((tx) => this.sendLink(tx, user, "verify_email", email));
  }

  /**
   * POST /auth/email (the caller checked the current password): a link to the new address, a
   * notice to the old one. An address another account has gets that account's owner a notice,
   * and the caller the same answer, so the route reveals no one's address.
   */
  async changeEmail(userId: string, rawEmail: string, ip: string): Promise<void> {
    const email = validateEmail(rawEmail);
    await this.#throttle(ip, email);
    await this.#p.store.transaction(async (tx) => {
      const user = await tx.findUserById(userId);
      if (!user || user.disabledAt !== null) {
        throw new AuthError("invalid_token", "This account is not active.", { tokenPresented: true });
      }
      const owner = await tx.findUserByEmail(email);
      if (owner !== null && owner.id !== user.id) {
        await this.sendNotice(tx, owner, "address_in_use", owner.email ?? email);
        return;
      }
      if (owner?.id === user.id && verifiedAddress(user) !== null) return;
      await this.sendLink(tx, user, "verify_email", email);
      const old = verifiedAddress(user);
      if (old !== null && emailKey(old) !== emailKey(email)) {
        await this.sendNotice(tx, user, "email_change_requested", old, { newEmail: email });
      }
    });
  }

  /**
   * POST /auth/password/forgot. The request does the same work whether or not an account has the
   * address — shape check, throttles, one sealed outbox row — so neither answer nor timing tells;
   * the worker looks the address up and sends the link (RESET_REQUEST_KIND).
   */
  async forgotPassword(rawEmail: string, ip: string): Promise<void> {
    const email = validateEmail(rawEmail);
    await this.#throttle(ip, email);
    await this.#p.store.transaction(async (tx) => {
      await this.#p.outbox.enqueue(tx, { kind: RESET_REQUEST_KIND, payload: { email }, secret: true });
    });
  }

  /** The worker's half of "forgot password": a reset link if a live account has that verified address. */
  async deliverResetRequest(message: OutboxDelivery): Promise<void> {
    const email = message.payload["email"];
    if (typeof email !== "string") return;
    await this.#p.store.transaction(async (tx) => {
      const user = await tx.findUserByEmail(email);
      if (!user || user.disabledAt !== null) return;
      const verified = verifiedAddress(user);
      if (verified === null || emailKey(verified) !== emailKey(email)) return;
      await this.sendLink(tx, user, "reset_password", verified);
    });
  }

  /**
   * POST /auth/password/reset: the policy applies, then in one transaction the link is used, the
   * password set, every session ended and the notice queued — or none of it.
   */
  async resetPassword(token: string, newPassword: string): Promise<void> {
    const hash = this.#hashOf(token);
    const record = await this.#p.store.findMailToken(hash);
    const now = this.#p.clock.now();
    if (!usable(record, "reset_password", now)) throw invalidLink();
    const user = await this.#p.store.findUserById(record.userId);
    // Bound to the address: a link sent to an address the account no longer has is dead.
    const address = user ? verifiedAddress(user) : null;
    if (!user || user.disabledAt !== null || address === null || emailKey(address) !== emailKey(record.email)) {
      throw invalidLink();
    }
    const password = normalizePassword(newPassword);
    await this.#p.checkPasswordPolicy(password, { username: user.username });
    const passwordHash = await this.#p.hasher.hash(password);
    await this.#p.store.transaction(async (tx) => {
      const at = this.#p.clock.now();
      if (!(await tx.useMailToken(hash, at))) throw invalidLink();
      await tx.voidMailTokens(user.id, "reset_password", at);
      await tx.updatePasswordHash(user.id, passwordHash);
      await tx.endUserSessions(user.id, at, "password_reset");
      await this.#p.events?.record(tx, { type: "password_reset", userId: user.id });
      await this.notify(tx, user, "password_reset");
    });
  }

  #hashOf(token: string): string {
    if (!MAIL_TOKEN_SHAPE.test(token)) throw invalidLink();
    return mailTokenHash(token);
  }

  /** Per client address and per email address, so nobody can flood a mailbox (429 + Retry-After). */
  async #throttle(ip: string, email: string): Promise<void> {
    await this.#p.perIp.consume(throttleIp(ip));
    await this.#p.perAddress.consume(emailKey(email));
  }
}
