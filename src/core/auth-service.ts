import { createHash, randomUUID } from "node:crypto";
import type { Clock } from "./clock.ts";
import type { GatehouseConfig } from "./config.ts";
import { validateEmail } from "./email/email-address.ts";
import type { EmailService } from "./email/email-service.ts";
import { AuthError, isAuthError } from "./errors.ts";
import { OncePerWindow } from "./events/once-per-window.ts";
import type { SecurityEventData, SecurityEventType } from "./events/security-event.ts";
import type { SecurityEvents } from "./events/security-events.ts";
import type { LoginResult, Metrics } from "./observability/metrics.ts";
import type { SecurityLog } from "./observability/security-log.ts";
import type { MfaChallenge, MfaService, SecondFactorProof } from "./mfa/mfa-service.ts";
import { passkeyAmr } from "./mfa/amr.ts";
import type { PasskeyLoginOptions, PasskeyService } from "./mfa/passkeys.ts";
import type { PasswordHasher } from "./passwords/argon2-hasher.ts";
import { normalizePassword } from "./passwords/password-policy.ts";
import { isWellFormedRefreshToken } from "./sessions/refresh-token.ts";
import type { SessionMeta, SessionService } from "./sessions/session-service.ts";
import { type Introspection, introspectToken } from "./sessions/token-introspection.ts";
import type { AccessTokenClaims } from "./tokens/access-token-verifier.ts";
import { throttleIp } from "./throttle/throttle-keys.ts";
import { normalizeUsername, usernameKey, validateNewUsername } from "./users/username.ts";
import type {
  AuditEventRecord,
  SessionCursor,
  SessionRecord,
  Store,
  TransactionOps,
  UserRecord,
} from "./store/store.ts";
import { EmailTakenError } from "./store/users.ts";

/** Who is calling, as far as the transport can tell. */
export interface CallerContext extends SessionMeta {
  ip: string;
}

export interface TokenGrant {
  accessToken: string;
  expiresIn: number;
  refreshToken: string;
  session: SessionRecord;
}

export interface PublicUser {
  id: string;
  username: string;
}

/** What GET /auth/me shows: the public user plus the address and whether it is verified. */
export interface UserProfile extends PublicUser {
  email: string | null;
  email_verified: boolean;
}

/** Who is logging in: by username or by email address, exactly one. */
export type LoginName = { username: string; email?: undefined } | { email: string; username?: undefined };

/** What a verified bearer token tells a route: claims plus the ids most code needs. */
export interface AuthContext {
  readonly userId: string;
  readonly sessionId: string;
  readonly claims: AccessTokenClaims;
  readonly scopes: readonly string[];
  readonly roles: readonly string[];
  /** How the user proved it (RFC 8176); empty for tokens issued before it was recorded. */
  readonly amr: readonly string[];
}

export interface AuthServiceParts {
  store: Store;
  config: GatehouseConfig;
  clock: Clock;
  hasher: PasswordHasher;
  checkPasswordPolicy: (password: string, context: { username: string }) => Promise<void> | void;
  loginThrottle: {
    check(username: string, ip: string): Promise<void>;
    recordFailure(username: string, ip: string): Promise<void>;
    recordSuccess(username: string, ip: string): Promise<void>;
    release(username: string, ip: string): Promise<void>;
  };
  registrationLimit: { consume(key: string): Promise<void> };
  sessions: SessionService;
  signAccessToken: (subject: { sub: string; sid: string; roles?: string[]; amr?: readonly string[] }) => {
    token: string;
    expiresIn: number;
  };
  verifyAccessToken: (token: string) => AccessTokenClaims;
  metrics: Metrics;
  log: SecurityLog;
  /** Second factors; without it, login is one step. */
  mfa?: MfaService;
  /** Passkey logins; without it, the passkey routes are not served. */
  passkeys?: PasskeyService;
  events: SecurityEvents;
  /** Verified addresses and recovery; without it, accounts have no email. */
  email?: EmailService;
}

/** A page of a user's own activity, newest first. */
export interface ActivityPage {
  events: AuditEventRecord[];
  /** Pass as `before` for the next page; null when this was the last. */
  nextBefore: string | null;
}

const INVALID_CREDENTIALS = "Wrong username or password.";
/**
 * The throttle name of a request that names no account (a passkey login, a second step whose
 * token is dead), made from what it presents, as an unknown username would be: its failures
 * count per address like those of unknown usernames. ":" keeps it apart from every username.
 */
const anonymousName = (kind: string, presented: string): string =>
  `${kind}:${createHash("sha256").update(presented).digest("base64url")}`;
const EMAIL_NOT_VERIFIED = "Confirm your email address first: open the link we mailed you, or ask for a new one.";
const sessionEnded = () =>
  new AuthError("invalid_token", "This session has ended. Log in again.", {
    tokenPresented: true,
    reason: "session_ended",
  });

export const publicUser = (user: UserRecord): PublicUser => ({ id: user.id, username: user.username });

/**
 * The auth use-cases, free of HTTP: register, login, refresh, logout, sessions,
 * password change, bearer authentication. Transports (the Express router, the CLI)
 * translate their inputs into these calls and AuthError codes into their answers.
 */
export class AuthService {
  readonly #p: AuthServiceParts;
  // One login_throttled event per account and address per minute, however many requests were refused.
  readonly #throttledEvents = new OncePerWindow(60_000);

  constructor(parts: AuthServiceParts) {
    this.#p = parts;
  }

  async register(
    rawUsername: string,
    rawPassword: string,
    caller: CallerContext,
    rawEmail?: string,
  ): Promise<PublicUser> {
    if (!this.#p.config.registrationOpen) {
      throw new AuthError(
        "registration_closed",
        "Registration is closed on this server. Ask an administrator for an account.",
      );
    }
    const username = validateNewUsername(rawUsername);
    const email = rawEmail === undefined ? null : validateEmail(rawEmail);
    if (email === null && this.#requiresVerifiedEmail()) {
      throw new AuthError("invalid_request", "An email address is required to register on this server.");
    }
    const password = normalizePassword(rawPassword);
    // The limit comes before the strength check: judging a password costs 10-20 ms of the event
    // loop, so a refused weak password counts as an attempt too.
    const address = throttleIp(caller.ip);
    await this.#p.registrationLimit.consume(address);
    await this.#p.checkPasswordPolicy(password, { username });
    const user: UserRecord = {
      id: randomUUID(),
      username,
      passwordHash: await this.#p.hasher.hash(password, address),
      createdAt: this.#p.clock.now(),
      disabledAt: null,
      roles: [],
      email: null,
      emailVerifiedAt: null,
    };
    const mailer = this.#p.email;
    if (email === null || mailer === undefined) {
      await this.#p.store.transaction(async (tx) => {
        await tx.insertUser(user);
        await this.#record(tx, "user_registered", user.id, caller);
      });
      return publicUser(user);
    }
    // An address another account has: the same answer as a fresh sign-up, the new account gets
    // no address, and the address's owner is told. A concurrent sign-up that wins the address
    // between the check and the insert makes the first try fail; the second sees the owner.
    for (let attempt = 0; ; attempt++) {
      try {
        await this.#p.store.transaction(async (tx) => {
          const owner = await tx.findUserByEmail(email);
          await tx.insertUser({ ...user, email: owner === null ? email : null });
          await this.#record(tx, "user_registered", user.id, caller);
          if (owner === null) await mailer.sendLink(tx, user, "verify_email", email);
          else await mailer.sendNotice(tx, owner, "address_in_use", owner.email ?? email);
        });
        return publicUser(user);
      } catch (error) {
        if (!(error instanceof EmailTakenError) || attempt > 0) throw error;
      }
    }
  }

  /**
   * Unknown user, disabled user and wrong password look the same from outside:
   * same error, and the same argon2 work (a dummy verify) so timing does not tell.
   */
  async login(login: string | LoginName, rawPassword: string, caller: CallerContext): Promise<TokenGrant> {
    const outcome = await this.beginLogin(login, rawPassword, caller);
    if ("mfaRequired" in outcome) {
      const message = "This account has a second factor: log in with beginLogin and completeMfaLogin.";
      throw new AuthError("insufficient_user_authentication", message);
    }
    return outcome;
  }

  /**
   * The first login step, by username or email address. A right password answers tokens, or,
   * when the account has a second factor, a challenge to finish with completeMfaLogin. A wrong
   * password is the same invalid_credentials either way, so the second step reveals nothing
   * about the first.
   */
  async beginLogin(
    login: string | LoginName,
    rawPassword: string,
    caller: CallerContext,
  ): Promise<TokenGrant | MfaChallenge> {
    try {
      const name = typeof login === "string" ? { username: login } : login;
      const outcome = await this.#login(name, rawPassword, caller);
      // Half a login is not a success yet: completeMfaLogin counts it when it finishes.
      if (!("mfaRequired" in outcome)) this.#p.metrics.login("success");
      return outcome;
    } catch (error) {
      this.#p.metrics.login(loginResultOf(error));
      throw error;
    }
  }

  async #login(name: LoginName, rawPassword: string, caller: CallerContext): Promise<TokenGrant | MfaChallenge> {
    const password = normalizePassword(rawPassword);
    const address = throttleIp(caller.ip);
    let throttleName: string;
    let find: () => Promise<UserRecord | null>;
    if (name.email !== undefined) {
      // Accounts are throttled by their username whichever way they log in; an unknown address
      // by a key no username can spell (":" is not allowed in usernames).
      const byEmail = await this.#p.store.findUserByEmail(name.email.trim());
      throttleName = byEmail ? normalizeUsername(byEmail.username) : `email:${name.email.trim().toLowerCase()}`;
      find = async () => byEmail;
    } else {
      const username = normalizeUsername(name.username);
      throttleName = username;
      find = () => this.#p.store.findUserByUsername(username);
    }
    let found = null as UserRecord | null;
    let challenge: MfaChallenge | null = null;
    const user = await this.#throttled(
      throttleName,
      caller,
      "login",
      async () => {
        found = await find();
        if (found?.disabledAt != null) {
          this.#p.log.warn({ userId: found.id, ip: caller.ip }, "login refused: account disabled");
        }
        const ok =
          found !== null && found.disabledAt === null
            ? await this.#p.hasher.verify(found.passwordHash, password, address)
            : await this.#p.hasher.verifyDummy(password, address);
        if (ok && found && !this.#mustVerifyEmail(found)) {
          challenge = (await this.#p.mfa?.challengeFor(found.id)) ?? null;
        }
        return ok ? found : null;
      },
      // Half a login clears no failures: else each right password would buy five more code guesses.
      () => challenge === null,
    );
    if (!user) {
      // The name typed for an unknown account is not kept: it is personal data, and people type
      // passwords into the username field. The address and user agent are what stuffing shows in.
      const reason =
        found === null ? "unknown_user" : found.disabledAt !== null ? "account_disabled" : "wrong_password";
      await this.#loginFailed(found?.id ?? null, caller, reason);
      throw new AuthError("invalid_credentials", INVALID_CREDENTIALS);
    }
    // Only now, with the password proven, may the answer say anything about the address.
    if (this.#mustVerifyEmail(user)) {
      throw new AuthError("email_not_verified", EMAIL_NOT_VERIFIED);
    }
    // Hashed before the transaction: nothing slow happens while it holds its locks.
    const rehashed = this.#p.hasher.needsRehash(user.passwordHash)
      ? await this.#upgradedHash(password, address)
      : undefined;
    if (challenge) {
      if (rehashed !== undefined) await this.#p.store.updatePasswordHash(user.id, rehashed);
      return challenge;
    }
    const { session, refreshToken } = await this.#p.sessions.start(user.id, caller, ["pwd"], async (tx, started) => {
      if (rehashed !== undefined) await tx.updatePasswordHash(user.id, rehashed);
      await this.#record(tx, "login_succeeded", user.id, caller, started.id);
    });
    return this.#grant(user, session, refreshToken);
  }

  /**
   * The second login step: one of the mfa_token's tries, then the code. A wrong code counts
   * toward the login throttle like a wrong password.
   */
  async completeMfaLogin(mfaToken: unknown, proof: SecondFactorProof, caller: CallerContext): Promise<TokenGrant> {
    return this.#counted(() => this.#completeMfaLogin(mfaToken, proof, caller));
  }

  async #completeMfaLogin(mfaToken: unknown, proof: SecondFactorProof, caller: CallerContext): Promise<TokenGrant> {
    const mfa = this.#p.mfa;
    if (!mfa) throw new AuthError("not_found", "Second factors are not enabled on this server.");
    let userId: string;
    try {
      userId = await mfa.takeAttempt(mfaToken);
    } catch (error) {
      if (!isAuthError(error) || error.code !== "invalid_grant") throw error;
      // Like a password for an unknown account: an attempt and a failure of the address.
      await this.#throttled(anonymousName("mfa-token", String(mfaToken)), caller, "login", async () => null);
      await this.#loginFailed(null, caller, "dead_mfa_token");
      throw error;
    }
    const found = await this.#p.store.findUserById(userId);
    if (!found || found.disabledAt !== null) {
      await this.#loginFailed(found?.id ?? null, caller, "account_disabled");
      throw new AuthError("invalid_credentials", INVALID_CREDENTIALS);
    }
    let amr: readonly string[] | null = null;
    const user = await this.#throttled(found.username, caller, "login", async () => {
      amr = await mfa.verify(found.id, proof);
      return amr ? found : null;
    });
    if (!user || !amr) {
      await this.#loginFailed(found.id, caller, "wrong_second_factor");
      throw new AuthError("invalid_credentials", "The code is wrong, expired or already used.");
    }
    await mfa.consume(mfaToken as string);
    return this.#startLogin(user, caller, amr);
  }

  /** A login with a passkey alone (discoverable credential, user verification required). */
  async loginWithPasskey(response: unknown, caller: CallerContext): Promise<TokenGrant> {
    return this.#counted(() => this.#loginWithPasskey(response, caller));
  }

  async #loginWithPasskey(response: unknown, caller: CallerContext): Promise<TokenGrant> {
    const passkeys = this.#p.passkeys;
    if (!passkeys) throw new AuthError("not_found", "Passkeys are not enabled on this server.");
    // No account is named before the assertion is verified: throttled like an unknown username.
    const credentialId = (response as { id?: unknown } | null)?.id;
    const name = anonymousName("passkey", typeof credentialId === "string" ? credentialId : "");
    const verified = await this.#throttled(name, caller, "login", async () => {
      try {
        return await passkeys.verifyAuthentication(response, "login", null);
      } catch (error) {
        if (isAuthError(error) && error.code === "invalid_credentials") return null;
        throw error;
      }
    });
    if (!verified) {
      await this.#loginFailed(null, caller, "passkey_rejected");
      throw new AuthError("invalid_credentials", "The passkey could not be verified.");
    }
    const user = await this.#p.store.findUserById(verified.userId);
    if (!user || user.disabledAt !== null) {
      await this.#loginFailed(user?.id ?? null, caller, "account_disabled");
      throw new AuthError("invalid_credentials", "The passkey could not be verified.");
    }
    if (this.#mustVerifyEmail(user)) {
      throw new AuthError("email_not_verified", EMAIL_NOT_VERIFIED);
    }
    return this.#startLogin(user, caller, passkeyAmr(verified.keyKind, false));
  }

  /** Records a refused login: who, if known, from where, and why (never what was typed). */
  async #loginFailed(userId: string | null, caller: CallerContext, reason: string): Promise<void> {
    await this.#p.events.recordAlone(this.#p.store, {
      ...this.#about(userId, caller),
      type: "login_failed",
      data: { reason },
    });
  }

  /**
   * WebAuthn options for a login with a passkey alone, or, with `mfaToken`, for the second step
   * of that login. Each request stores a challenge, so each counts as a login attempt of the
   * address (and is refused while the address is throttled).
   */
  async passkeyLoginOptions(mfaToken: unknown, caller: CallerContext): Promise<PasskeyLoginOptions> {
    const { mfa, passkeys } = this.#p;
    if (!mfa || !passkeys) throw new AuthError("not_found", "Passkeys are not enabled on this server.");
    // Each request its own name: only the address's limits apply, as to logins of unknown usernames.
    const options = await this.#throttled(
      anonymousName("passkey-options", randomUUID()),
      caller,
      "login",
      () => (mfaToken === undefined ? passkeys.authenticationOptions("login", null) : mfa.passkeyOptionsFor(mfaToken)),
      () => false,
    );
    return options!;
  }

  /** Starts the session of a finished login and records it, in one transaction. */
  async #startLogin(user: UserRecord, caller: CallerContext, amr: readonly string[]): Promise<TokenGrant> {
    const { session, refreshToken } = await this.#p.sessions.start(user.id, caller, amr, async (tx, started) => {
      await this.#record(tx, "login_succeeded", user.id, caller, started.id);
    });
    return this.#grant(user, session, refreshToken);
  }

  /** Counts a finished login attempt (success or why not) in the login metrics. */
  async #counted(login: () => Promise<TokenGrant>): Promise<TokenGrant> {
    try {
      const grant = await login();
      this.#p.metrics.login("success");
      return grant;
    } catch (error) {
      this.#p.metrics.login(loginResultOf(error));
      throw error;
    }
  }

  #requiresVerifiedEmail(): boolean {
    return this.#p.email !== undefined && this.#p.config.email.verification === "required";
  }

  /** The server requires a verified address and this account has none yet. */
  #mustVerifyEmail(user: UserRecord): boolean {
    return this.#requiresVerifiedEmail() && (user.emailVerifiedAt ?? null) === null;
  }

  async refresh(refreshToken: unknown, caller?: CallerContext): Promise<TokenGrant> {
    const { session, refreshToken: next, user } = await this.#p.sessions.rotate(refreshToken, caller);
    return this.#grant(user, session, next);
  }

  /**
   * Judges a password inside a throttle slot and records the outcome: `judge` answers the
   * user on success, null on failure. An error on the way (database down, hashing queue full)
   * is neither: the slot is given back and nothing is counted, so faults cannot lock the real
   * user out.
   */
  async #throttled<T>(
    username: string,
    caller: CallerContext,
    action: "login" | "password_change",
    judge: () => Promise<T | null>,
    clearsFailures: () => boolean = () => true,
  ): Promise<T | null> {
    const throttle = this.#p.loginThrottle;
    const ip = caller.ip;
    try {
      await throttle.check(username, ip);
    } catch (error) {
      if (isAuthError(error) && error.code === "too_many_requests")
        await this.#recordThrottled(username, caller, action);
      throw error;
    }
    let user: T | null;
    try {
      user = await judge();
    } catch (error) {
      await throttle.release(username, ip).catch(() => undefined);
      throw error;
    }
    if (!user) await throttle.recordFailure(username, ip);
    else if (clearsFailures()) await throttle.recordSuccess(username, ip);
    else await throttle.release(username, ip);
    return user;
  }

  /** A hash with the current parameters, or undefined when hashing is busy (the next login upgrades it). */
  async #upgradedHash(password: string, address: string): Promise<string | undefined> {
    try {
      return await this.#p.hasher.hash(password, address);
    } catch (error) {
      if (error instanceof AuthError && error.code === "too_many_requests") return undefined;
      throw error;
    }
  }

  /**
   * Records login_throttled at most once per account and address per minute. Best effort: the
   * caller gets its 429 whether or not the record could be written.
   */
  async #recordThrottled(username: string, caller: CallerContext, action: string): Promise<void> {
    if (!this.#throttledEvents.take(`${usernameKey(username)}\n${caller.ip}`, this.#p.clock.now())) return;
    try {
      const user = await this.#p.store.findUserByUsername(username);
      const input = { ...this.#about(user?.id ?? null, caller), type: "login_throttled" as const, data: { action } };
      await this.#p.events.recordAlone(this.#p.store, input);
    } catch {
      // The database is what failed; the throttle's answer stands.
    }
  }

  /** The who and where of an event; no caller: an administrator's act (the CLI, an app's own code). */
  #about(userId: string | null, caller: CallerContext | undefined, sessionId: string | null = null) {
    return { userId, sessionId, ip: caller?.ip ?? null, userAgent: caller?.userAgent ?? null };
  }

  #record(
    tx: TransactionOps,
    type: SecurityEventType,
    userId: string,
    caller: CallerContext | undefined,
    sessionId: string | null = null,
    data?: SecurityEventData,
  ) {
    return this.#p.events.record(tx, { ...this.#about(userId, caller, sessionId), type, ...(data ? { data } : {}) });
  }

  #grant(user: UserRecord, session: SessionRecord, refreshToken: string): TokenGrant {
    const base = { sub: user.id, sid: session.id, amr: session.amr };
    const subject = user.roles.length > 0 ? { ...base, roles: user.roles } : base;
    const { token, expiresIn } = this.#p.signAccessToken(subject);
    return { accessToken: token, expiresIn, refreshToken, session };
  }

  /** Ends the session a refresh token belongs to. Unknown tokens are ignored: logout is idempotent. */
  async logoutByRefreshToken(refreshToken: unknown, caller?: CallerContext): Promise<void> {
    const sessionId = await this.#p.sessions.sessionIdOf(refreshToken);
    if (sessionId) await this.#endSession(sessionId, "logout", "logout", caller);
  }

  async logoutSession(sessionId: string, caller?: CallerContext): Promise<void> {
    await this.#endSession(sessionId, "logout", "logout", caller);
  }

  /** Ends every session of the user; `sessionId` is the session that asked, if any. */
  async logoutAll(userId: string, caller?: CallerContext, sessionId?: string): Promise<void> {
    await this.#p.store.transaction(async (tx) => {
      const ended = await this.#p.sessions.endAllForUser(userId, "logout_all", undefined, tx);
      await this.#record(tx, "logout_all", userId, caller, sessionId ?? null, { sessions_ended: ended });
    });
  }

  /**
   * Ends a session and records the event in one transaction; nothing is recorded when the
   * session had already ended (a repeated logout). Returns whether it ended it.
   */
  async #endSession(
    sessionId: string,
    reason: string,
    type: SecurityEventType,
    caller: CallerContext | undefined,
    data?: SecurityEventData,
  ): Promise<boolean> {
    return this.#p.store.transaction(async (tx) => {
      const session = await tx.findSession(sessionId);
      if (!session || !(await this.#p.sessions.end(sessionId, reason, tx))) return false;
      await this.#record(tx, type, session.userId, caller, sessionId, data);
      return true;
    });
  }

  /**
   * Verifies a bearer token; with `checkSession`, also that its session is still live
   * and belongs to the token's subject (revocation takes effect at once). Synchronous when
   * the answer needs no database read (no session check, or the revocation list vouches);
   * a promise otherwise. Throws (or rejects with) AuthError("invalid_token").
   */
  authenticate(token: string, checkSession: boolean): AuthContext | Promise<AuthContext> {
    const claims = this.#p.verifyAccessToken(token);
    if (!checkSession) return toAuthContext(claims);
    const live = this.#p.sessions.isLive(claims.sid, claims.sub);
    if (live === true) return toAuthContext(claims);
    if (live === false) throw sessionEnded();
    return live.then((ok) => {
      if (!ok) throw sessionEnded();
      return toAuthContext(claims);
    });
  }

  /** RFC 7662: is this token (either kind) live right now, and whose is it? Consumes nothing. */
  async introspect(token: string): Promise<Introspection> {
    const liveAccessClaims = async (accessToken: string) => (await this.authenticate(accessToken, true)).claims;
    const { store, clock, config } = this.#p;
    return introspectToken({ liveAccessClaims, store, clock, issuer: config.issuer }, token);
  }

  /**
   * RFC 7009: ends the session (the grant) a token belongs to, whichever kind it is, so every
   * token of that session stops working. Unknown, malformed or expired tokens change nothing.
   */
  async revoke(token: string, caller?: CallerContext): Promise<void> {
    const sessionId = isWellFormedRefreshToken(token)
      ? await this.#p.sessions.sessionIdOf(token)
      : this.#sessionOfAccessToken(token);
    if (sessionId) await this.#endSession(sessionId, "revoked", "session_revoked", caller, { by: "token_revocation" });
  }

  /** The session of an authentic, unexpired access token, or null. */
  #sessionOfAccessToken(token: string): string | null {
    try {
      return this.#p.verifyAccessToken(token).sid;
    } catch (error) {
      if (error instanceof AuthError && error.code === "invalid_token") return null;
      throw error;
    }
  }

  async listSessions(userId: string): Promise<SessionRecord[]> {
    return this.#p.sessions.listLive(userId);
  }

  /**
   * One page of the user's live sessions, newest first, and where the next page starts (null
   * on the last one). One row more than asked says whether there is a next page.
   */
  async listSessionsPage(
    userId: string,
    limit: number,
    before: SessionCursor | null,
  ): Promise<{ sessions: SessionRecord[]; next: SessionCursor | null }> {
    const rows = await this.#p.sessions.listLivePage(userId, limit + 1, before);
    const sessions = rows.slice(0, limit);
    const last = sessions.at(-1);
    const next = rows.length > limit && last ? { createdAt: last.createdAt, id: last.id } : null;
    return { sessions, next };
  }

  /**
   * Ends one of the user's own live sessions; anything else is "not found" (no probing of ids).
   * `currentSessionId` is the session of the request, to tell whether it ended itself.
   */
  async endOwnSession(
    userId: string,
    sessionId: string,
    caller?: CallerContext,
    currentSessionId?: string,
  ): Promise<void> {
    const session = await this.#p.sessions.findLive(sessionId);
    if (!session || session.userId !== userId) {
      throw new AuthError("not_found", "No such session among yours. List them with GET /auth/sessions.");
    }
    await this.#endSession(sessionId, "revoked", "session_revoked", caller, {
      current: sessionId === currentSessionId,
    });
  }

  /** An administrator ends a session (CLI); returns false when it was not open. */
  async revokeSession(sessionId: string): Promise<boolean> {
    return this.#endSession(sessionId, "revoked", "session_revoked", undefined, { by: "administrator" });
  }

  /** The user's own security events, newest first; `before` is the previous page's `nextBefore`. */
  async activity(userId: string, page: { limit: number; before?: string }): Promise<ActivityPage> {
    const query = { userId, limit: page.limit + 1, ...(page.before === undefined ? {} : { before: page.before }) };
    const events = await this.#p.store.listAuditEvents(query);
    const more = events.length > page.limit;
    if (more) events.length = page.limit;
    return { events, nextBefore: more ? events.at(-1)!.id : null };
  }

  /** Checks the caller's current password (throttled like a login) before a sensitive change. */
  async verifyCurrentPassword(auth: AuthContext, currentPassword: string, caller: CallerContext): Promise<UserRecord> {
    const user = await this.#p.store.findUserById(auth.userId);
    if (!user || user.disabledAt !== null)
      throw new AuthError("invalid_token", "This account is not active.", { tokenPresented: true });
    const current = normalizePassword(currentPassword);
    const address = throttleIp(caller.ip);
    const verified = await this.#throttled(user.username, caller, "password_change", async () =>
      (await this.#p.hasher.verify(user.passwordHash, current, address)) ? user : null,
    );
    if (!verified) {
      throw new AuthError("invalid_credentials", "The current password is wrong.");
    }
    return verified;
  }

  /** Changes the password after checking the current one; every other session ends. */
  async changePassword(
    auth: AuthContext,
    currentPassword: string,
    newPassword: string,
    caller: CallerContext,
  ): Promise<void> {
    const user = await this.verifyCurrentPassword(auth, currentPassword, caller);
    const next = normalizePassword(newPassword);
    await this.#p.checkPasswordPolicy(next, { username: user.username });
    const hash = await this.#p.hasher.hash(next, throttleIp(caller.ip));
    await this.#p.store.transaction(async (tx) => {
      await tx.updatePasswordHash(user.id, hash);
      const ended = await this.#p.sessions.endAllForUser(user.id, "password_changed", auth.sessionId, tx);
      await this.#record(tx, "password_changed", user.id, caller, auth.sessionId, { sessions_ended: ended });
      await this.#p.email?.notify(tx, user, "password_changed");
    });
  }

  /** Disables or re-enables an account (an administrator's act); disabling ends every session at once. */
  async setUserDisabled(userId: string, disabled: boolean): Promise<void> {
    const now = this.#p.clock.now();
    await this.#p.store.transaction(async (tx) => {
      await tx.setUserDisabled(userId, disabled ? now : null);
      if (!disabled) return this.#record(tx, "user_enabled", userId, undefined);
      const ended = await this.#p.sessions.endAllForUser(userId, "user_disabled", undefined, tx);
      return this.#record(tx, "user_disabled", userId, undefined, null, { sessions_ended: ended });
    });
  }

  async me(userId: string): Promise<UserProfile> {
    const user = await this.#p.store.findUserById(userId);
    if (!user || user.disabledAt !== null)
      throw new AuthError("invalid_token", "This account is not active.", { tokenPresented: true });
    const email = user.email ?? null;
    return { ...publicUser(user), email, email_verified: email !== null && (user.emailVerifiedAt ?? null) !== null };
  }
}

/** The error codes a login can end with, as the login counter's closed set of results. */
function loginResultOf(error: unknown): LoginResult {
  if (!isAuthError(error)) return "error";
  switch (error.code) {
    case "invalid_credentials":
      return "invalid_credentials";
    case "too_many_requests":
      return "throttled";
    case "invalid_request":
      return "invalid_request";
    case "unavailable":
      return "unavailable";
    default:
      return "error";
  }
}

/**
 * Verified claims objects are frozen and shared by every cache hit of the same token, so the
 * context built from them is too: a repeated token costs no allocation here.
 */
const contexts = new WeakMap<AccessTokenClaims, AuthContext>();

/** The read-only `req.auth` for verified claims. */
export function toAuthContext(claims: AccessTokenClaims): AuthContext {
  let context = contexts.get(claims);
  if (context === undefined) {
    context = Object.freeze({
      userId: claims.sub,
      sessionId: claims.sid,
      claims,
      scopes: Object.freeze(typeof claims.scope === "string" && claims.scope.length > 0 ? claims.scope.split(" ") : []),
      roles: Object.freeze(
        Array.isArray(claims.roles) ? claims.roles.filter((r): r is string => typeof r === "string") : [],
      ),
      amr: Object.freeze(Array.isArray(claims.amr) ? claims.amr.filter((m): m is string => typeof m === "string") : []),
    });
    contexts.set(claims, context);
  }
  return context;
}
