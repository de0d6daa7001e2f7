import type { AuthContext, AuthService, CallerContext } from "../auth-service.ts";
import type { Clock } from "../clock.ts";
import type { EmailService } from "../email/email-service.ts";
import { AuthError } from "../errors.ts";
import type { SecurityEvents } from "../events/security-events.ts";
import type { Store, TransactionOps } from "../store/store.ts";
import type { MfaService, TotpEnrolment } from "./mfa-service.ts";
import type { PasskeyService } from "./passkeys.ts";

/** A login this recent is proof enough to start enrolling a factor without the password again. */
export const FRESH_LOGIN_SECONDS = 600;

export interface MfaAccountParts {
  auth: AuthService;
  mfa: MfaService;
  store: Store;
  clock: Clock;
  passkeys?: PasskeyService;
  /** With it, adding and removing a factor are recorded (mfa_enabled, mfa_disabled). */
  events?: SecurityEvents;
  /** With it, adding and removing a factor mail a notice to the account's verified address. */
  email?: EmailService;
}

/** Which kind of factor a change was about, as its event says. */
type FactorMethod = "totp" | "passkey";

/**
 * What a logged-in user does with their second factors. Each change needs a fresh proof
 * (the current password, or a login from the last few minutes for starting an enrolment)
 * and ends the user's other sessions, so a thief holding one of them is cut off. Each change is
 * recorded and its notice queued in the transaction that makes it.
 */
export class MfaAccount {
  readonly #p: MfaAccountParts;

  constructor(parts: MfaAccountParts) {
    this.#p = parts;
  }

  async enrolTotp(
    auth: AuthContext,
    currentPassword: string | undefined,
    caller: CallerContext,
  ): Promise<TotpEnrolment> {
    const user =
      currentPassword === undefined
        ? await this.#freshLoginUser(auth)
        : await this.#p.auth.verifyCurrentPassword(auth, currentPassword, caller);
    return this.#p.mfa.enrolTotp(user.id, user.username);
  }

  async confirmTotp(auth: AuthContext, code: string, caller?: CallerContext): Promise<string[]> {
    return this.#p.mfa.confirmTotp(auth.userId, code, (tx) =>
      this.#factorChanged(tx, auth, caller, "mfa_enabled", "totp"),
    );
  }

  async disableTotp(auth: AuthContext, currentPassword: string, caller: CallerContext): Promise<void> {
    await this.#p.auth.verifyCurrentPassword(auth, currentPassword, caller);
    await this.#p.mfa.disableTotp(auth.userId, (tx) => this.#factorChanged(tx, auth, caller, "mfa_disabled", "totp"));
  }

  async regenerateRecoveryCodes(auth: AuthContext, currentPassword: string, caller: CallerContext): Promise<string[]> {
    await this.#p.auth.verifyCurrentPassword(auth, currentPassword, caller);
    return this.#p.mfa.regenerateRecoveryCodes(auth.userId);
  }

  /** Registration options for a new passkey; the same fresh proof as a TOTP enrolment. */
  async passkeyRegistrationOptions(auth: AuthContext, currentPassword: string | undefined, caller: CallerContext) {
    const passkeys = this.#passkeys();
    const user =
      currentPassword === undefined
        ? await this.#freshLoginUser(auth)
        : await this.#p.auth.verifyCurrentPassword(auth, currentPassword, caller);
    return passkeys.registrationOptions(user);
  }

  /** Stores the new passkey and ends the user's other sessions. */
  async verifyPasskeyRegistration(
    auth: AuthContext,
    response: unknown,
    name: string | undefined,
    caller?: CallerContext,
  ) {
    return this.#passkeys().verifyRegistration(auth.userId, response, name, (tx) =>
      this.#factorChanged(tx, auth, caller, "mfa_enabled", "passkey"),
    );
  }

  listPasskeys(auth: AuthContext) {
    return this.#passkeys().list(auth.userId);
  }

  renamePasskey(auth: AuthContext, id: string, name: string) {
    return this.#passkeys().rename(auth.userId, id, name);
  }

  async removePasskey(auth: AuthContext, id: string, currentPassword: string, caller: CallerContext): Promise<void> {
    await this.#p.auth.verifyCurrentPassword(auth, currentPassword, caller);
    await this.#passkeys().remove(auth.userId, id, (tx) =>
      this.#factorChanged(tx, auth, caller, "mfa_disabled", "passkey"),
    );
  }

  #passkeys(): PasskeyService {
    if (!this.#p.passkeys) throw new AuthError("not_found", "Passkeys are not enabled on this server.");
    return this.#p.passkeys;
  }

  async #freshLoginUser(auth: AuthContext) {
    const [session, user] = await Promise.all([
      this.#p.store.findSession(auth.sessionId),
      this.#p.store.findUserById(auth.userId),
    ]);
    if (!user || user.disabledAt !== null || !session || session.userId !== user.id) {
      throw new AuthError("invalid_token", "This account is not active.", { tokenPresented: true });
    }
    if (this.#p.clock.now() - session.createdAt > FRESH_LOGIN_SECONDS * 1000) {
      const message = "Adding a second factor needs a recent login: send current_password, or log in again and retry.";
      throw new AuthError("insufficient_user_authentication", message);
    }
    return user;
  }

  /** In the change's transaction: the user's other sessions end, the event is recorded, the notice queued. */
  async #factorChanged(
    tx: TransactionOps,
    auth: AuthContext,
    caller: CallerContext | undefined,
    reason: "mfa_enabled" | "mfa_disabled",
    method: FactorMethod,
  ): Promise<void> {
    const ended = await tx.endUserSessions(auth.userId, this.#p.clock.now(), reason, auth.sessionId);
    await this.#p.events?.record(tx, {
      type: reason,
      userId: auth.userId,
      sessionId: auth.sessionId,
      ip: caller?.ip ?? null,
      userAgent: caller?.userAgent ?? null,
      data: { method, sessions_ended: ended },
    });
    const email = this.#p.email;
    if (email === undefined) return;
    const user = await tx.findUserById(auth.userId);
    if (user) await email.notify(tx, user, reason);
  }
}
