import { errorFromResponse, GatehouseClientError, isGatehouseClientError } from "./errors.ts";
import { joinUrl, originOf, pageOrigin, readTokenResponse, send, type TokenResponse } from "./http.ts";
import { type SharedToken, type TabMessage, TabSync } from "./tab-sync.ts";

/** Whether this tab holds a session. */
export type GatehouseStatus = "signed-in" | "signed-out";

/** What `onChange` listeners receive. `expiresAt` (epoch ms) is set while signed in. */
export interface GatehouseState {
  status: GatehouseStatus;
  expiresAt?: number;
}

/** What `login()` answers when the account has a second factor: finish with `completeMfaLogin`. */
export interface GatehouseMfaChallenge {
  status: "mfa-required";
  mfaToken: string;
  /** e.g. ["totp", "recovery_code"]. */
  methods: string[];
}

/** A TOTP code from the app, or one of the recovery codes. */
export type GatehouseSecondFactor = { code: string } | { recoveryCode: string };

export interface GatehouseTotpEnrolment {
  /** Base32; show it for manual entry, once. */
  secret: string;
  /** `otpauth://totp/...`, for a QR code. */
  otpauthUri: string;
}

/**
 * The browser half of WebAuthn, e.g. `@simplewebauthn/browser` (pass the module): the client
 * takes it as a parameter so that it has no dependency of its own.
 */
export interface GatehouseWebAuthn {
  startRegistration(args: { optionsJSON: never }): Promise<unknown>;
  startAuthentication(args: { optionsJSON: never }): Promise<unknown>;
}

export interface GatehousePasskey {
  id: string;
  name: string;
  created_at: string;
  last_used_at: string | null;
  device_type: string;
  backed_up: boolean;
  transports: string[];
}

export interface GatehouseUser {
  id: string;
  username: string;
}

/** `GET /auth/me`. */
export interface GatehouseMe {
  user: GatehouseUser & { email?: string | null; email_verified?: boolean };
  session_id: string;
}

/** One entry of `GET /auth/sessions`. Times are ISO 8601 strings. */
export interface GatehouseSessionInfo {
  id: string;
  created_at: string;
  last_used_at: string;
  expires_at: string;
  user_agent: string | null;
  ip: string | null;
  current: boolean;
}

/** One security event of `GET /auth/activity`. `at` is an ISO 8601 string. */
export interface GatehouseActivityEvent {
  id: string;
  /** `login_succeeded`, `login_failed`, `logout`, `password_changed`, … */
  type: string;
  at: string;
  session_id: string | null;
  ip: string | null;
  user_agent: string | null;
  details: Record<string, string | number | boolean | null>;
}

/** A page of the user's activity, newest first; pass `next_before` as `before` for the next page. */
export interface GatehouseActivityPage {
  events: GatehouseActivityEvent[];
  next_before: string | null;
}

export interface GatehouseClientOptions {
  /**
   * Where the Gatehouse server is. Default `""`: the page's own origin. A different origin
   * needs the server to allow it (`allowedOrigins` plus CORS with credentials) and sends
   * cookies with `credentials: "include"`; the refresh cookie is `SameSite=Strict`, so the
   * two origins must also be the same *site*.
   */
  baseUrl?: string;
  /** Where the auth routes are mounted on the server. Default `"/auth"`. */
  authPath?: string;
  /**
   * Refresh this many seconds before the access token expires. Default: 30 s or 10% of the
   * token's lifetime, whichever is smaller. Capped at half the lifetime.
   */
  refreshLeewaySeconds?: number;
  /** Refresh on a timer before expiry, so the session stays alive while a tab is open. Default true. */
  autoRefresh?: boolean;
  /**
   * Origins besides `baseUrl`'s to which `client.fetch` may send the access token. The token
   * is never attached to any other origin.
   */
  apiOrigins?: string[];
  /** Override the credentials mode of auth requests (default: "same-origin", or "include" when `baseUrl` is another origin). */
  credentials?: RequestCredentials;
  /** Name of the cross-tab lock and channel; change it only to run two independent clients on one origin. Default `"gatehouse"`. */
  tabSyncName?: string;
  /** The fetch to use. Default: the global `fetch`, looked up at call time. */
  fetch?: typeof fetch;
  /** Current time in epoch ms (tests). Default `Date.now`. */
  now?: () => number;
}

export interface GatehouseClient {
  /** Creates an account (`POST /auth/register`), with an email address if given. Does not log in. */
  register(username: string, password: string, email?: string): Promise<GatehouseUser>;
  /**
   * Starts a session (`POST /auth/login`); every open tab of this origin becomes signed in.
   * When the account has a second factor, resolves to a challenge instead (still signed out).
   */
  login(username: string, password: string): Promise<GatehouseState | GatehouseMfaChallenge>;
  /** Like `login`, by email address instead of username. */
  loginWithEmail(email: string, password: string): Promise<GatehouseState | GatehouseMfaChallenge>;
  /** The second login step (`POST /auth/login/mfa`) with a TOTP code or a recovery code. */
  completeMfaLogin(mfaToken: string, factor: GatehouseSecondFactor): Promise<GatehouseState>;
  /** `POST /auth/mfa/totp`: a pending secret. Needs a recent login, or the current password. */
  enrolTotp(currentPassword?: string): Promise<GatehouseTotpEnrolment>;
  /** `POST /auth/mfa/totp/confirm`: turns TOTP on; resolves to the 10 recovery codes (show them once). */
  confirmTotp(code: string): Promise<string[]>;
  /** `DELETE /auth/mfa/totp`. */
  disableTotp(currentPassword: string): Promise<void>;
  /** `POST /auth/mfa/recovery-codes`: new codes; the old ones stop working. */
  regenerateRecoveryCodes(currentPassword: string): Promise<string[]>;
  /** Creates a passkey on this device and registers it (`/auth/webauthn/register/options|verify`). */
  registerPasskey(
    webauthn: GatehouseWebAuthn,
    options?: { name?: string; currentPassword?: string },
  ): Promise<GatehousePasskey>;
  /** Logs in with a passkey alone (`/auth/webauthn/login/options|verify`). */
  loginWithPasskey(webauthn: GatehouseWebAuthn): Promise<GatehouseState>;
  /** The second login step with a passkey. */
  completeMfaLoginWithPasskey(mfaToken: string, webauthn: GatehouseWebAuthn): Promise<GatehouseState>;
  /** `GET /auth/webauthn/credentials`. */
  passkeys(): Promise<GatehousePasskey[]>;
  /** `PATCH /auth/webauthn/credentials/:id`. */
  renamePasskey(id: string, name: string): Promise<GatehousePasskey>;
  /** `DELETE /auth/webauthn/credentials/:id`. */
  removePasskey(id: string, currentPassword: string): Promise<void>;
  /** `POST /auth/password/forgot`: a reset link if an account has that verified address; answers alike for any. */
  forgotPassword(email: string): Promise<void>;
  /** `POST /auth/password/reset` with the token of a `#reset=` link. Every session of the user ends. */
  resetPassword(token: string, newPassword: string): Promise<void>;
  /** `POST /auth/email/verify` with the token of a `#verify=` link. */
  verifyEmail(token: string): Promise<void>;
  /** `POST /auth/email/resend`: a new verification link to the signed-in user's address. */
  resendVerification(): Promise<void>;
  /** `POST /auth/email`: link to the new address, notice to the old; takes effect when verified. */
  changeEmail(email: string, currentPassword: string): Promise<void>;
  /**
   * Ends this session (`POST /auth/logout`) and signs out every tab of this origin. Local
   * state is cleared even if the server cannot be reached; the error is still thrown.
   */
  logout(): Promise<void>;
  /** Ends every session of the user (`POST /auth/logout-all`) and signs out every tab. */
  logoutAll(): Promise<void>;
  /**
   * Call on page load: one refresh through the cookie. Resolves to signed-in or signed-out;
   * throws only when the server could not answer (network, 429, 503, …), never for "not logged in".
   */
  restore(): Promise<GatehouseState>;
  /** Gets a new access token now (rotating the refresh token). Throws `invalid_grant` when there is no session. */
  refresh(): Promise<GatehouseState>;
  /**
   * `fetch` with `Authorization: Bearer <token>` for the API origins. Refreshes first when the
   * token is about to expire; on a 401 refreshes once and retries once. Otherwise behaves
   * exactly like `fetch` (a non-2xx response is returned, not thrown).
   */
  fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
  /** A usable access token (refreshed if about to expire), or undefined when signed out. Kept in memory only. */
  getAccessToken(): Promise<string | undefined>;
  /** `GET /auth/me`. */
  me(): Promise<GatehouseMe>;
  /** `GET /auth/sessions`: the user's live sessions, newest first (every page, followed for you). */
  sessions(): Promise<GatehouseSessionInfo[]>;
  /** `DELETE /auth/sessions/:id`. Ending the current session signs this client out. */
  endSession(id: string): Promise<void>;
  /** `POST /auth/password`. Every other session of the user ends. */
  changePassword(currentPassword: string, newPassword: string): Promise<void>;
  /**
   * `GET /auth/activity`: the user's own security events (logins, failed logins, logouts,
   * password changes, …), newest first, `limit` per page (default 20, at most 100).
   */
  activity(options?: { limit?: number; before?: string }): Promise<GatehouseActivityPage>;
  /** Calls `listener` on sign-in, sign-out and every new token. Returns an unsubscribe function. */
  onChange(listener: (state: GatehouseState) => void): () => void;
  /** `"unknown"` until `restore()` (or a login) has settled it. */
  readonly status: GatehouseStatus | "unknown";
  /** When the current access token expires (epoch ms), or undefined. */
  readonly expiresAt: number | undefined;
  /** Stops timers and the cross-tab channel. The client is unusable afterwards. */
  close(): void;
}

/** Longest setTimeout delay browsers honour. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Retry delay for a failed background refresh without Retry-After. */
const BACKGROUND_RETRY_SECONDS = 5;

/**
 * Creates the browser client. The access token lives only in this closure: never in
 * localStorage, sessionStorage, cookies, IndexedDB or a URL. The refresh token is an
 * HttpOnly cookie the page cannot read.
 *
 * @example
 * const auth = createGatehouseClient();
 * auth.onChange((state) => render(state));
 * await auth.restore();
 * const response = await auth.fetch("/api/hello");
 */
export function createGatehouseClient(options: GatehouseClientOptions = {}): GatehouseClient {
  return new BrowserGatehouseClient(options);
}

class BrowserGatehouseClient implements GatehouseClient {
  readonly #authBase: string;
  readonly #fetchImpl: typeof fetch;
  readonly #now: () => number;
  readonly #leewaySeconds: number | undefined;
  readonly #autoRefresh: boolean;
  readonly #extraOrigins: string[];
  readonly #baseUrl: string;
  readonly #credentials: RequestCredentials | undefined;
  readonly #sync: TabSync;
  readonly #listeners = new Set<(state: GatehouseState) => void>();
  readonly #onVisible = () => this.#refreshIfVisibleAndDue();

  #token: SharedToken | undefined;
  #status: GatehouseStatus | "unknown" = "unknown";
  /** Bumped whenever the identity changes (login, logout); a refresh started before it is void. */
  #epoch = 0;
  #refreshing: Promise<void> | undefined;
  #restoring: Promise<GatehouseState> | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #tokenOrigins: Set<string> | undefined;
  #closed = false;

  constructor(options: GatehouseClientOptions) {
    this.#baseUrl = options.baseUrl ?? "";
    this.#authBase = joinUrl(this.#baseUrl, options.authPath ?? "/auth");
    const givenFetch = options.fetch;
    this.#fetchImpl = givenFetch ?? ((input, init) => globalThis.fetch(input, init));
    this.#now = options.now ?? (() => Date.now());
    if (options.refreshLeewaySeconds !== undefined && !(options.refreshLeewaySeconds >= 0)) {
      throw new RangeError("createGatehouseClient: refreshLeewaySeconds must be a number of seconds, 0 or more.");
    }
    this.#leewaySeconds = options.refreshLeewaySeconds;
    this.#autoRefresh = options.autoRefresh ?? true;
    this.#extraOrigins = options.apiOrigins ?? [];
    this.#credentials = options.credentials;
    const name = options.tabSyncName ?? "gatehouse";
    this.#sync = new TabSync({ lockName: `${name}-refresh`, channelName: name });
    this.#sync.listen((message) => this.#receive(message));
    if (typeof document !== "undefined") document.addEventListener("visibilitychange", this.#onVisible);
  }

  get status(): GatehouseStatus | "unknown" {
    return this.#status;
  }

  get expiresAt(): number | undefined {
    return this.#token?.expiresAt;
  }

  async register(username: string, password: string, email?: string): Promise<GatehouseUser> {
    const fields = email === undefined ? { username, password } : { username, password, email };
    const response = await send(this.#fetchImpl, this.#authUrl("/register"), this.#postInit(fields));
    if (!response.ok) throw await errorFromResponse(response, this.#now());
    const body = (await response.json()) as { user: GatehouseUser };
    return body.user;
  }

  async login(username: string, password: string): Promise<GatehouseState | GatehouseMfaChallenge> {
    return this.#signIn("/login", { username, password });
  }

  async loginWithEmail(email: string, password: string): Promise<GatehouseState | GatehouseMfaChallenge> {
    return this.#signIn("/login", { email, password });
  }

  async completeMfaLogin(mfaToken: string, factor: GatehouseSecondFactor): Promise<GatehouseState> {
    const proof = "code" in factor ? { code: factor.code } : { recovery_code: factor.recoveryCode };
    const outcome = await this.#signIn("/login/mfa", { mfa_token: mfaToken, ...proof });
    return outcome.status === "mfa-required" ? this.#state() : outcome;
  }

  async enrolTotp(currentPassword?: string): Promise<GatehouseTotpEnrolment> {
    const body = currentPassword === undefined ? {} : { current_password: currentPassword };
    const answer = await this.#api<{ secret: string; otpauth_uri: string }>("POST", "/mfa/totp", body);
    return { secret: answer.secret, otpauthUri: answer.otpauth_uri };
  }

  async confirmTotp(code: string): Promise<string[]> {
    return (await this.#api<{ recovery_codes: string[] }>("POST", "/mfa/totp/confirm", { code })).recovery_codes;
  }

  async disableTotp(currentPassword: string): Promise<void> {
    await this.#api<void>("DELETE", "/mfa/totp", { current_password: currentPassword });
  }

  async regenerateRecoveryCodes(currentPassword: string): Promise<string[]> {
    const body = { current_password: currentPassword };
    return (await this.#api<{ recovery_codes: string[] }>("POST", "/mfa/recovery-codes", body)).recovery_codes;
  }

  async registerPasskey(
    webauthn: GatehouseWebAuthn,
    options: { name?: string; currentPassword?: string } = {},
  ): Promise<GatehousePasskey> {
    const proof = options.currentPassword === undefined ? {} : { current_password: options.currentPassword };
    const optionsJSON = await this.#api<never>("POST", "/webauthn/register/options", proof);
    const response = await webauthn.startRegistration({ optionsJSON });
    const body = options.name === undefined ? { response } : { response, name: options.name };
    return (await this.#api<{ credential: GatehousePasskey }>("POST", "/webauthn/register/verify", body)).credential;
  }

  async loginWithPasskey(webauthn: GatehouseWebAuthn): Promise<GatehouseState> {
    return this.#passkeySignIn(webauthn, {});
  }

  async completeMfaLoginWithPasskey(mfaToken: string, webauthn: GatehouseWebAuthn): Promise<GatehouseState> {
    return this.#passkeySignIn(webauthn, { mfa_token: mfaToken });
  }

  async passkeys(): Promise<GatehousePasskey[]> {
    return (await this.#api<{ credentials: GatehousePasskey[] }>("GET", "/webauthn/credentials")).credentials;
  }

  async renamePasskey(id: string, name: string): Promise<GatehousePasskey> {
    const path = `/webauthn/credentials/${encodeURIComponent(id)}`;
    return (await this.#api<{ credential: GatehousePasskey }>("PATCH", path, { name })).credential;
  }

  async removePasskey(id: string, currentPassword: string): Promise<void> {
    const path = `/webauthn/credentials/${encodeURIComponent(id)}`;
    await this.#api<void>("DELETE", path, { current_password: currentPassword });
  }

  /** Calls that need no session: the answer is all there is. */
  async #post(path: string, body: Record<string, unknown>): Promise<void> {
    const response = await send(this.#fetchImpl, this.#authUrl(path), this.#postInit(body));
    if (!response.ok) throw await errorFromResponse(response, this.#now());
  }

  forgotPassword(email: string): Promise<void> {
    return this.#post("/password/forgot", { email });
  }

  resetPassword(token: string, newPassword: string): Promise<void> {
    return this.#post("/password/reset", { token, new_password: newPassword });
  }

  verifyEmail(token: string): Promise<void> {
    return this.#post("/email/verify", { token });
  }

  async resendVerification(): Promise<void> {
    await this.#api<undefined>("POST", "/email/resend", {});
  }

  async changeEmail(email: string, currentPassword: string): Promise<void> {
    await this.#api<undefined>("POST", "/email", { email, current_password: currentPassword });
  }

  async #passkeySignIn(webauthn: GatehouseWebAuthn, extra: Record<string, string>): Promise<GatehouseState> {
    const init = this.#postInit(extra);
    const answer = await send(this.#fetchImpl, this.#authUrl("/webauthn/login/options"), init);
    if (!answer.ok) throw await errorFromResponse(answer, this.#now());
    const optionsJSON = (await answer.json()) as never;
    const response = await webauthn.startAuthentication({ optionsJSON });
    const outcome = await this.#signIn("/webauthn/login/verify", { response, ...extra });
    return outcome.status === "mfa-required" ? this.#state() : outcome;
  }

  async #signIn(path: string, payload: Record<string, unknown>): Promise<GatehouseState | GatehouseMfaChallenge> {
    let challenge: GatehouseMfaChallenge | undefined;
    // Under the refresh lock: a login never interleaves with another tab's refresh.
    await this.#sync.exclusive(async () => {
      const response = await send(this.#fetchImpl, this.#authUrl(path), this.#postInit(payload));
      if (!response.ok) throw await errorFromResponse(response, this.#now());
      const answer = (await response
        .clone()
        .json()
        .catch(() => null)) as Record<string, unknown> | null;
      if (answer?.["mfa_required"] === true && typeof answer["mfa_token"] === "string") {
        const methods = Array.isArray(answer["methods"]) ? answer["methods"].filter((m) => typeof m === "string") : [];
        challenge = { status: "mfa-required", mfaToken: answer["mfa_token"], methods };
        return;
      }
      const body = await readTokenResponse(response);
      this.#epoch++;
      const token = this.#adopt(body);
      this.#sync.post({ type: "signed-in", token });
    });
    return challenge ?? this.#state();
  }

  async logout(): Promise<void> {
    await this.#refreshing?.catch(() => {});
    await this.#sync.exclusive(async () => {
      const token = this.#token;
      // The cookie names the session; the bearer only helps when the cookie is missing. An
      // expired bearer would be refused, so it is not sent.
      const bearer = token && token.expiresAt > this.#now() ? token.accessToken : undefined;
      this.#signOutLocally();
      this.#sync.post({ type: "signed-out" });
      const response = await send(this.#fetchImpl, this.#authUrl("/logout"), this.#postInit({}, bearer));
      // 401: the bearer was already unusable, so there is nothing left to end.
      if (!response.ok && response.status !== 401) throw await errorFromResponse(response, this.#now());
    });
  }

  async logoutAll(): Promise<void> {
    const response = await this.fetch(this.#authUrl("/logout-all"), this.#postInit({}));
    if (!response.ok) {
      const error = await errorFromResponse(response, this.#now());
      if (error.code === "invalid_token") this.#signOutEverywhere();
      throw error;
    }
    this.#signOutEverywhere();
  }

  restore(): Promise<GatehouseState> {
    this.#restoring ??= this.#restore().finally(() => {
      this.#restoring = undefined;
    });
    return this.#restoring;
  }

  async refresh(): Promise<GatehouseState> {
    await this.#refresh(this.#token?.accessToken);
    if (!this.#token) throw new GatehouseClientError("invalid_grant", 401, "Not signed in. Log in again.");
    return this.#state();
  }

  async fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    const request = new Request(input, init);
    if (!this.#mayCarryToken(request.url)) return this.#fetchImpl(request);
    const token = await this.#usableToken();
    if (token === undefined) return this.#fetchImpl(request);
    const retry = request.clone();
    const response = await this.#fetchImpl(withBearer(request, token));
    if (response.status !== 401 || !(await isRejectedToken(response))) return response;
    try {
      await this.#refresh(token);
    } catch {
      return response;
    }
    const next = this.#token?.accessToken;
    if (next === undefined || next === token) return response;
    return this.#fetchImpl(withBearer(retry, next));
  }

  getAccessToken(): Promise<string | undefined> {
    return this.#usableToken();
  }

  me(): Promise<GatehouseMe> {
    return this.#api<GatehouseMe>("GET", "/me");
  }

  async sessions(): Promise<GatehouseSessionInfo[]> {
    const all: GatehouseSessionInfo[] = [];
    let cursor: string | null | undefined;
    // The server caps live sessions per user (100 by default): one or two pages of 100.
    do {
      const query = `?limit=100${cursor ? `&before=${encodeURIComponent(cursor)}` : ""}`;
      const page = await this.#api<{ sessions: GatehouseSessionInfo[]; next_cursor?: string | null }>(
        "GET",
        `/sessions${query}`,
      );
      all.push(...page.sessions);
      cursor = page.next_cursor;
    } while (cursor);
    return all;
  }

  async endSession(id: string): Promise<void> {
    const current = this.#token ? sessionIdOf(this.#token.accessToken) : undefined;
    await this.#api<undefined>("DELETE", `/sessions/${encodeURIComponent(id)}`);
    // Every tab shares this session (one cookie), so they all sign out with it.
    if (id === current) this.#signOutEverywhere();
  }

  async changePassword(currentPassword: string, newPassword: string): Promise<void> {
    await this.#api<undefined>("POST", "/password", { current_password: currentPassword, new_password: newPassword });
  }

  activity(options: { limit?: number; before?: string } = {}): Promise<GatehouseActivityPage> {
    const query = new URLSearchParams();
    if (options.limit !== undefined) query.set("limit", String(options.limit));
    if (options.before !== undefined) query.set("before", options.before);
    const search = query.toString();
    return this.#api<GatehouseActivityPage>("GET", search === "" ? "/activity" : `/activity?${search}`);
  }

  onChange(listener: (state: GatehouseState) => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#sync.close();
    this.#listeners.clear();
    if (typeof document !== "undefined") document.removeEventListener("visibilitychange", this.#onVisible);
  }

  // --- refresh -------------------------------------------------------------------------

  async #restore(): Promise<GatehouseState> {
    if (this.#token && !this.#expiringSoon(this.#token)) return this.#state();
    try {
      await this.#refresh(this.#token?.accessToken);
    } catch (error) {
      if (!isGatehouseClientError(error, "invalid_grant")) throw error;
    }
    if (!this.#token) this.#signOutLocally();
    return this.#state();
  }

  /** Gets a token other than `stale`, once per tab at a time. Rejects with GatehouseClientError. */
  #refresh(stale: string | undefined): Promise<void> {
    this.#refreshing ??= this.#refreshAcrossTabs(stale).finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  async #refreshAcrossTabs(stale: string | undefined): Promise<void> {
    const epoch = this.#epoch;
    await this.#sync.exclusive(async (contended) => {
      if (this.#epoch !== epoch || this.#hasReplacementFor(stale)) return;
      await this.#sync.settlePeers(contended);
      if (this.#epoch !== epoch || this.#hasReplacementFor(stale)) return;

      const id = randomId();
      let shared: SharedToken | null = null;
      this.#sync.post({ type: "refresh-started", id });
      try {
        const response = await send(this.#fetchImpl, this.#authUrl("/refresh"), this.#postInit({}));
        if (!response.ok) throw await errorFromResponse(response, this.#now());
        const body = await readTokenResponse(response);
        if (this.#epoch === epoch) shared = this.#adopt(body);
      } catch (error) {
        if (isGatehouseClientError(error, "invalid_grant")) this.#signOutLocally();
        throw error;
      } finally {
        this.#sync.post({ type: "refresh-finished", id, token: shared });
      }
    });
  }

  /** True when we now hold a fresh token that is not the one the caller wanted replaced. */
  #hasReplacementFor(stale: string | undefined): boolean {
    const token = this.#token;
    return token !== undefined && token.accessToken !== stale && !this.#expiringSoon(token);
  }

  async #usableToken(): Promise<string | undefined> {
    if (this.#status === "unknown" && !this.#token) await this.restore().catch(() => {});
    if (this.#refreshing) await this.#refreshing.catch(() => {});
    const token = this.#token;
    if (token && this.#expiringSoon(token)) {
      // A failed early refresh is not fatal: the current token may still be accepted.
      await this.#refresh(token.accessToken).catch(() => {});
    }
    return this.#token?.accessToken;
  }

  #leewayMs(token: SharedToken): number {
    const seconds = this.#leewaySeconds ?? Math.min(30, token.lifetimeSeconds * 0.1);
    return Math.min(seconds, token.lifetimeSeconds / 2) * 1000;
  }

  #expiringSoon(token: SharedToken): boolean {
    return this.#now() >= token.expiresAt - this.#leewayMs(token);
  }

  #schedule(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const token = this.#token;
    if (!token || !this.#autoRefresh || this.#closed) return;
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, token.expiresAt - this.#leewayMs(token) - this.#now()));
    this.#timer = setTimeout(() => this.#backgroundRefresh(token.accessToken), delay);
  }

  async #backgroundRefresh(stale: string): Promise<void> {
    try {
      await this.#refresh(stale);
    } catch (error) {
      const token = this.#token;
      if (!token || token.accessToken !== stale || this.#closed) return;
      // Transient (network, 429, 503): try again while the token is still good.
      const retryAfter = isGatehouseClientError(error) ? error.retryAfter : undefined;
      const delay = Math.min((retryAfter ?? BACKGROUND_RETRY_SECONDS) * 1000, token.expiresAt - this.#now());
      if (delay > 0) this.#timer = setTimeout(() => this.#backgroundRefresh(stale), delay);
    }
  }

  #refreshIfVisibleAndDue(): void {
    if (document.visibilityState !== "visible") return;
    const token = this.#token;
    if (token && this.#expiringSoon(token)) this.#refresh(token.accessToken).catch(() => {});
  }

  // --- state ---------------------------------------------------------------------------

  /** Takes a token response as the current token and tells listeners. */
  #adopt(body: TokenResponse): SharedToken {
    const token: SharedToken = {
      accessToken: body.access_token,
      expiresAt: this.#now() + body.expires_in * 1000,
      lifetimeSeconds: body.expires_in,
    };
    this.#setToken(token);
    return token;
  }

  #setToken(token: SharedToken): void {
    this.#token = token;
    this.#status = "signed-in";
    this.#schedule();
    this.#emit();
  }

  #signOutLocally(): void {
    const wasSignedOut = this.#status === "signed-out";
    this.#token = undefined;
    this.#status = "signed-out";
    this.#epoch++;
    this.#schedule();
    if (!wasSignedOut) this.#emit();
  }

  #signOutEverywhere(): void {
    this.#signOutLocally();
    this.#sync.post({ type: "signed-out" });
  }

  #receive(message: TabMessage): void {
    if (this.#closed) return;
    switch (message.type) {
      case "refresh-finished": {
        const current = this.#token;
        // Another tab refreshed the session we share: take its token if it is newer.
        if (
          message.token &&
          this.#status !== "signed-out" &&
          (!current || message.token.expiresAt > current.expiresAt)
        ) {
          this.#setToken(message.token);
        }
        return;
      }
      case "signed-in":
        this.#epoch++;
        this.#setToken(message.token);
        return;
      case "signed-out":
        this.#signOutLocally();
        return;
      case "refresh-started":
        return;
    }
  }

  #state(): GatehouseState {
    const token = this.#token;
    return this.#status === "signed-in" && token
      ? { status: "signed-in", expiresAt: token.expiresAt }
      : { status: "signed-out" };
  }

  #emit(): void {
    const state = this.#state();
    for (const listener of [...this.#listeners]) {
      try {
        listener(state);
      } catch (error) {
        // One faulty listener must not stop the others or the client; surface it anyway.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }

  // --- HTTP ----------------------------------------------------------------------------

  #authUrl(path: string): string {
    return joinUrl(this.#authBase, path);
  }

  #postInit(body: Record<string, unknown>, bearer?: string): RequestInit {
    const headers: Record<string, string> = { "Content-Type": "application/json", Accept: "application/json" };
    if (bearer !== undefined) headers["Authorization"] = `Bearer ${bearer}`;
    return { method: "POST", headers, body: JSON.stringify(body), credentials: this.#credentialsMode() };
  }

  #credentialsMode(): RequestCredentials {
    if (this.#credentials) return this.#credentials;
    const page = pageOrigin();
    return page === undefined || originOf(this.#baseUrl || "/") === page ? "same-origin" : "include";
  }

  /** The bearer token only ever goes to the auth server's origin and the configured API origins. */
  #mayCarryToken(url: string): boolean {
    this.#tokenOrigins ??= new Set([
      originOf(this.#baseUrl || "/"),
      ...this.#extraOrigins.map((o) => new URL(o).origin),
    ]);
    return this.#tokenOrigins.has(originOf(url));
  }

  async #api<T>(method: string, path: string, body?: Record<string, unknown>): Promise<T> {
    const init: RequestInit =
      body === undefined
        ? { method, headers: { Accept: "application/json" }, credentials: this.#credentialsMode() }
        : this.#postInit(body);
    if (body !== undefined) init.method = method;
    const response = await send((input, requestInit) => this.fetch(input, requestInit), this.#authUrl(path), init);
    if (!response.ok) throw await errorFromResponse(response, this.#now());
    if (response.status === 204 || response.status === 202) return undefined as T;
    return (await response.json()) as T;
  }
}

function withBearer(request: Request, token: string): Request {
  const headers = new Headers(request.headers);
  headers.set("Authorization", `Bearer ${token}`);
  return new Request(request, { headers });
}

/** The `sid` claim of our own access token (read, not verified: the server verifies). */
function sessionIdOf(token: string): string | undefined {
  try {
    const payload = token.split(".")[1] ?? "";
    const json = atob(
      payload
        .replace(/-/g, "+")
        .replace(/_/g, "/")
        .padEnd(Math.ceil(payload.length / 4) * 4, "="),
    );
    const sid = (JSON.parse(json) as { sid?: unknown }).sid;
    return typeof sid === "string" ? sid : undefined;
  } catch {
    return undefined;
  }
}

function randomId(): string {
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Only a 401 about the token itself (RFC 6750 `error="invalid_token"`, or Gatehouse's JSON
 * `invalid_token`) is worth a refresh and retry; a 401 such as a wrong current password on
 * `/auth/password` is an answer, and retrying it would count a second failed attempt.
 */
async function isRejectedToken(response: Response): Promise<boolean> {
  const challenge = response.headers.get("www-authenticate");
  if (challenge !== null && /error="?invalid_token/i.test(challenge)) return true;
  try {
    const body: unknown = await response.clone().json();
    return typeof body === "object" && body !== null && (body as { error?: unknown }).error === "invalid_token";
  } catch {
    // A 401 without a readable body (another API's) is treated as a token problem.
    return challenge === null;
  }
}
