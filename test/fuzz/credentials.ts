import {
  createHmac,
  createPublicKey,
  generateKeyPairSync,
  type JsonWebKey,
  type KeyObject,
  randomBytes,
  sign,
} from "node:crypto";
import { totpCode } from "../../src/core/mfa/totp.ts";
import { createAccessTokenSigner } from "../../src/core/tokens/access-token-signer.ts";
import type { Gatehouse } from "../../src/gatehouse.ts";
import { headerValues, type RawResponse, simpleRequest } from "./raw-http.ts";
import type { AccessSource, MfaSource, RefreshSource, TokenRef } from "./request-model.ts";
import { mutateToken } from "./token-mutations.ts";

interface LiveSession {
  access: string;
  refresh: string;
  /** The refresh token this session's last rotation retired, once one happened. */
  retired: string | undefined;
  sub: string;
  sid: string;
  startedAt: number;
}

/** A fresh session is taken after this long even if nothing ended the old one (access tokens expire). */
const SESSION_MAX_AGE_MS = 5 * 60_000;
const LOGINS_PER_ACCOUNT = 50;
/** A live mfa_token is presented this often before a fresh one is taken (it allows 5 tries, and dies in 5 minutes). */
const MFA_TOKEN_USES = 4;
const MFA_TOKEN_MAX_AGE_MS = 4 * 60_000;

/**
 * The real credentials the fuzzer mutates: an account of its own, a session logged in over
 * HTTP, tokens signed in-process with the server's own key (expired, long-lived…), and
 * forgeries. Remembers every token the server issued to it, so a check can tell a genuine
 * token from a mutated one. When a fuzzed request may have ended the session (logout,
 * password change, reuse of a retired token), the next reference logs in again.
 */
export class CredentialPool {
  /** Access tokens the server issued over HTTP to this pool, exactly as issued. */
  readonly issuedAccess = new Set<string>();
  /** Refresh tokens the server issued over HTTP to this pool, exactly as issued. */
  readonly issuedRefresh = new Set<string>();
  /** The refresh cookie's name, as the server set it. */
  refreshCookieName = "gatehouse_refresh";
  username = "";
  password = "";
  /** Logins the pool made (each costs the server a password hash). */
  logins = 0;
  /** Whether the pool could not get a session lately (throttled): tokens may be stale. */
  starved = false;

  readonly #port: number;
  readonly #auth: Gatehouse;
  readonly #foreignKey: KeyObject;
  #publicJwk: JsonWebKey = {};
  #session: LiveSession | undefined;
  #bodyIssued: { access: string; refresh: string } | undefined;
  #dirty = true;
  #loginsOnAccount = 0;
  readonly #passwords: string[] = [];
  /** An account with TOTP on: its password logins answer an mfa_token. */
  #mfaAccount: { username: string; password: string } | undefined;
  #mfaToken: { token: string; uses: number; at: number } | undefined;
  /** mfa_tokens the server issued to this pool. */
  readonly issuedMfa = new Set<string>();

  constructor(port: number, auth: Gatehouse) {
    this.#port = port;
    this.#auth = auth;
    this.#foreignKey = generateKeyPairSync("ed25519").privateKey;
  }

  /** Registers the pool's account and reads the public key (for algorithm-confusion forgeries). */
  async setUp(): Promise<void> {
    await this.#newAccount();
    await this.#setUpMfaAccount();
    const jwks = await simpleRequest(this.#port, { method: "GET", path: "/.well-known/jwks.json" });
    const keys = (jwks.json as { keys?: JsonWebKey[] } | undefined)?.keys ?? [];
    this.#publicJwk = keys[0] ?? {};
    const session = await this.session();
    if (!session) throw new Error("the fuzz pool could not log in before the run");
  }

  /**
   * After a request with these genuine tokens that may have ended their session (or, with
   * `everySession`, every session of the account): the next reference logs in again.
   */
  sessionsMayHaveEnded(tokens: string[], everySession: boolean): void {
    const session = this.#session;
    const hit = (candidates: Array<string | undefined>) =>
      candidates.some((c) => c !== undefined && tokens.includes(c));
    if (everySession || (session && hit([session.access, session.refresh, session.retired]))) this.#dirty = true;
    if (everySession || (this.#bodyIssued && hit([this.#bodyIssued.access, this.#bodyIssued.refresh]))) {
      this.#bodyIssued = undefined;
    }
  }

  /**
   * A fuzzed refresh with one of the pool's tokens succeeded: carry on with its successor
   * instead of logging in again (logins cost a password hash each).
   */
  adopt(presented: string, response: RawResponse): boolean {
    const session = this.#session;
    const grant = this.#grantOf({ ...response, json: parseJson(response.body.toString("utf8")) });
    if (!grant || !session) return false;
    if (presented === session.refresh || presented === session.retired) {
      if (grant.refresh !== session.refresh) session.retired = session.refresh;
      session.access = grant.access;
      session.refresh = grant.refresh;
      return true;
    }
    if (this.#bodyIssued && presented === this.#bodyIssued.refresh) {
      this.#bodyIssued = grant;
      return true;
    }
    return false;
  }

  /** A fuzzed password change succeeded: the account's password is now this. */
  passwordChanged(newPassword: string): void {
    this.password = newPassword;
    this.#passwords.push(newPassword);
    this.#dirty = true;
    this.#bodyIssued = undefined;
  }

  /** The current session, logging in again when it may have ended. Undefined when throttled. */
  async session(): Promise<LiveSession | undefined> {
    const stale =
      this.#session === undefined || this.#dirty || Date.now() - this.#session.startedAt > SESSION_MAX_AGE_MS;
    if (!stale) return this.#session;
    const fresh = await this.#login("cookie");
    if (!fresh) {
      this.starved = true;
      return this.#session;
    }
    this.starved = false;
    this.#dirty = false;
    this.#session = { ...fresh, retired: undefined, startedAt: Date.now() };
    return this.#session;
  }

  /** The string a token reference stands for (mutations applied). */
  async resolve(ref: TokenRef): Promise<string> {
    const base =
      ref.token === "access"
        ? await this.#access(ref.source as AccessSource)
        : ref.token === "refresh"
          ? await this.#refresh(ref.source as RefreshSource)
          : await this.#mfa(ref.source as MfaSource);
    return mutateToken(base, ref.mutations);
  }

  /** A second account, with TOTP turned on in-process (the fuzzer cannot read codes off an app). */
  async #setUpMfaAccount(): Promise<void> {
    const username = `fuzz_mfa_${randomBytes(6).toString("hex")}`;
    const password = `fz-${randomBytes(18).toString("base64url")}`;
    const caller = { ip: "127.0.0.1", userAgent: "fuzz" };
    const user = await this.#auth.service.register(username, password, caller);
    const { secret } = await this.#auth.mfa.enrolTotp(user.id, user.username);
    await this.#auth.mfa.confirmTotp(user.id, totpCode(secret, Date.now()), async () => undefined);
    this.#mfaAccount = { username, password };
    this.#passwords.push(password);
  }

  async #mfa(source: MfaSource): Promise<string> {
    if (source === "unknown") return `ghmfa_${randomBytes(32).toString("base64url")}`;
    const current = this.#mfaToken;
    if (current && current.uses < MFA_TOKEN_USES && Date.now() - current.at < MFA_TOKEN_MAX_AGE_MS) {
      current.uses++;
      return current.token;
    }
    const account = this.#mfaAccount;
    if (!account) return "no-mfa-account";
    this.logins++;
    const response = await simpleRequest(this.#port, {
      method: "POST",
      path: "/auth/login",
      json: { username: account.username, password: account.password },
    });
    const token = (response.json as { mfa_token?: unknown } | undefined)?.mfa_token;
    if (typeof token !== "string") return current?.token ?? "no-mfa-token";
    this.issuedMfa.add(token);
    this.#mfaToken = { token, uses: 1, at: Date.now() };
    return token;
  }

  async #access(source: AccessSource): Promise<string> {
    const session = await this.session();
    if (!session) return "no-session";
    const signer = (offsetSeconds: number, ttlSeconds: number) =>
      createAccessTokenSigner({
        ring: this.#auth.keys,
        issuer: this.#auth.config.issuer,
        audience: this.#auth.config.audience,
        ttlSeconds,
        clock: { now: () => Date.now() + offsetSeconds * 1000 },
      })({ sub: session.sub, sid: session.sid }).token;
    const ttl = this.#auth.config.accessTokenTtlSeconds;
    const [header = "", payload = ""] = session.access.split(".");
    const headerJson = JSON.parse(Buffer.from(header, "base64url").toString("utf8")) as { kid?: string; typ?: string };
    const withHeader = (fields: Record<string, unknown>) =>
      Buffer.from(JSON.stringify({ ...fields, typ: headerJson.typ, kid: headerJson.kid }), "utf8").toString(
        "base64url",
      );
    const hs256 = (key: Buffer | string) => {
      const input = `${withHeader({ alg: "HS256" })}.${payload}`;
      return `${input}.${createHmac("sha256", key).update(input).digest("base64url")}`;
    };
    switch (source) {
      case "pool":
        return session.access;
      case "expired":
        return signer(-(ttl + 180), ttl);
      case "long-lived":
        return signer(0, 10 * 365 * 86_400);
      case "future-iat":
        return signer(3600, ttl);
      case "foreign-key": {
        const input = `${header}.${payload}`;
        return `${input}.${sign(null, Buffer.from(input), this.#foreignKey).toString("base64url")}`;
      }
      case "alg-none":
        return `${withHeader({ alg: "none" })}.${payload}.`;
      case "hs256-public-raw":
        return hs256(Buffer.from(String(this.#publicJwk.x ?? ""), "base64url"));
      case "hs256-public-jwk":
        return hs256(JSON.stringify(this.#publicJwk));
      case "hs256-public-pem":
        return hs256(this.#publicPem());
      case "refresh-as-access":
        return session.refresh;
    }
  }

  #publicPem(): string {
    try {
      return String(createPublicKey({ key: this.#publicJwk, format: "jwk" }).export({ type: "spki", format: "pem" }));
    } catch {
      return "";
    }
  }

  async #refresh(source: RefreshSource): Promise<string> {
    const session = await this.session();
    if (!session) return "no-session";
    switch (source) {
      case "pool":
        return session.refresh;
      case "retired":
        return (await this.#retired(session)) ?? session.refresh;
      case "body-issued":
        this.#bodyIssued ??= await this.#login("body");
        return this.#bodyIssued?.refresh ?? session.refresh;
      case "access-as-refresh":
        return session.access;
    }
  }

  /** Rotates the session once (a browser's refresh) so the replaced token can be presented again. */
  async #retired(session: LiveSession): Promise<string | undefined> {
    if (session.retired !== undefined) return session.retired;
    const response = await simpleRequest(this.#port, {
      method: "POST",
      path: "/auth/refresh",
      json: {},
      headers: [
        ["Cookie", `${this.refreshCookieName}=${session.refresh}`],
        ["Origin", `http://127.0.0.1:${this.#port}`],
      ],
    });
    const grant = this.#grantOf(response);
    if (!grant) return undefined;
    session.retired = session.refresh;
    session.access = grant.access;
    session.refresh = grant.refresh;
    return session.retired;
  }

  async #login(transport: "cookie" | "body"): Promise<(LiveSession & { startedAt: number }) | undefined> {
    // A fresh account now and then keeps the session list of one account from growing without end.
    if (++this.#loginsOnAccount > LOGINS_PER_ACCOUNT) await this.#newAccount();
    this.logins++;
    let response = await this.#postLogin(transport);
    if (response.status === 401) {
      // A fuzzed password change with the right current password: start over with a new account.
      await this.#newAccount();
      response = await this.#postLogin(transport);
    }
    const grant = this.#grantOf(response);
    if (!grant) return undefined;
    const claims = JSON.parse(Buffer.from(grant.access.split(".")[1] ?? "", "base64url").toString("utf8")) as {
      sub: string;
      sid: string;
    };
    return {
      access: grant.access,
      refresh: grant.refresh,
      retired: undefined,
      sub: claims.sub,
      sid: claims.sid,
      startedAt: Date.now(),
    };
  }

  #postLogin(transport: "cookie" | "body") {
    return simpleRequest(this.#port, {
      method: "POST",
      path: "/auth/login",
      json: {
        username: this.username,
        password: this.password,
        ...(transport === "body" ? { token_transport: "body" } : {}),
      },
      headers: [["User-Agent", "gatehouse-fuzz-pool"]],
    });
  }

  /** Access and refresh token of a 200 login/refresh answer; remembers them as genuine. */
  #grantOf(response: RawResponse & { json: unknown }): { access: string; refresh: string } | undefined {
    if (response.status !== 200) return undefined;
    const body = response.json as { access_token?: unknown; refresh_token?: unknown } | undefined;
    const access = typeof body?.access_token === "string" ? body.access_token : undefined;
    let refresh = typeof body?.refresh_token === "string" ? body.refresh_token : undefined;
    for (const line of headerValues(response, "set-cookie")) {
      const pair = line.split(";")[0] ?? "";
      const eq = pair.indexOf("=");
      if (eq > 0 && pair.length > eq + 1) {
        this.refreshCookieName = pair.slice(0, eq);
        refresh ??= pair.slice(eq + 1);
      }
    }
    if (access === undefined || refresh === undefined) return undefined;
    this.issuedAccess.add(access);
    this.issuedRefresh.add(refresh);
    return { access, refresh };
  }

  async #newAccount(): Promise<void> {
    const username = `fuzz_${randomBytes(6).toString("hex")}`;
    const password = `fz-${randomBytes(18).toString("base64url")}`;
    const response = await simpleRequest(this.#port, {
      method: "POST",
      path: "/auth/register",
      json: { username, password },
    });
    if (response.status !== 201) return;
    this.username = username;
    this.password = password;
    this.#passwords.push(password);
    this.#loginsOnAccount = 0;
  }

  /** Every password the pool's accounts had and every token the server issued to it. */
  everySecret(): string[] {
    return [...this.#passwords, ...this.issuedAccess, ...this.issuedRefresh, ...this.issuedMfa];
  }

  /** The pool's current session id, for DELETE /auth/sessions/:id. */
  async sessionId(): Promise<string> {
    return (await this.session())?.sid ?? "no-session";
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
