import type { IncomingMessage } from "node:http";
import express, { type Request, type Response, type Router } from "express";
import type { Logger } from "pino";
import type { AuthService, LoginName, TokenGrant } from "../core/auth-service.ts";
import type { EmailService } from "../core/email/email-service.ts";
import type { Clock } from "../core/clock.ts";
import { AuthError } from "../core/errors.ts";
import type { MfaAccount } from "../core/mfa/mfa-account.ts";
import type { MfaService } from "../core/mfa/mfa-service.ts";
import type { SessionRecord } from "../core/store/store.ts";
import { readBearerToken } from "./bearer.ts";
import { callerOf } from "./caller.ts";
import { createRefreshCookie, type RefreshCookieSettings } from "./cookies.ts";
import { errorHandler } from "./error-handler.ts";
import { DEFAULT_SESSIONS_PAGE, encodeSessionCursor } from "./sessions-page.ts";
import { assertAllowedOrigin, assertJsonContentType, isJsonContentType } from "./request-guards.ts";
import { createRequireAuth } from "./require-auth.ts";
import { routeMounter } from "./route-spec.ts";
import { authRoutes } from "./routes.ts";
import { formBody } from "./form-body.ts";
import { type FailureLimit, introspectionGuard } from "./introspection-guard.ts";
import { mountMfaRoutes } from "./routes/mfa.ts";
import { mountWebAuthnRoutes } from "./routes/webauthn.ts";
import { DEFAULT_ACTIVITY_LIMIT, describeEvent } from "./routes/activity.ts";
import { mountEmailRoutes } from "./routes/email.ts";

export interface RouterSettings {
  service: AuthService;
  clock: Clock;
  logger: Logger;
  realm: string;
  bodyLimitBytes: number;
  allowedOrigins: readonly string[];
  cookie: RefreshCookieSettings;
  /** Sees each refused bearer token (metrics). */
  onTokenRefused?: ((error: AuthError) => void) | undefined;
  /** INTROSPECTION_TOKEN; undefined: `POST /introspect` answers 404. */
  introspectionToken: string | undefined;
  /** Failed introspection-caller authentications per address. */
  introspectionFailures: FailureLimit;
  /** Second factors (TOTP, recovery codes); without it the /mfa routes are not served. */
  mfaAccount?: MfaAccount;
  /** Second factors themselves (for the passkey second step). */
  mfa?: MfaService;
  /** Verified addresses and recovery: adds the email routes. */
  email?: EmailService | undefined;
}

/** The auth routes of the routes table. Mount it anywhere (`app.use("/auth", auth.router())`). */
export function createAuthRouter(s: RouterSettings): Router {
  const router = express.Router();
  const authenticate = (token: string, check: boolean) => s.service.authenticate(token, check);
  const bearer = createRequireAuth(authenticate, s.realm, { checkSession: true }, s.onTokenRefused);
  const cookie = createRefreshCookie(s.cookie);
  const serve = routeMounter(router, {
    bearer,
    introspection: introspectionGuard({ token: s.introspectionToken, failures: s.introspectionFailures }),
    formBody: formBody(s.bodyLimitBytes),
  });

  // The form-encoded token endpoints come before the JSON-only rule that covers every other POST.
  serve(authRoutes.introspect, async (_req, res, { body }) => {
    const answer = await s.service.introspect(body.token);
    // Written directly: an uncacheable answer has no use for the ETag res.json() would hash for it.
    res.setHeader("Cache-Control", "no-store");
    res.setHeader("Content-Type", "application/json; charset=utf-8");
    res.end(JSON.stringify(answer));
  });

  // RFC 7009 §2.2: 200 whether or not the token was known, so the answer tells nothing.
  serve(authRoutes.revoke, async (req, res, { body }) => {
    await s.service.revoke(body.token, callerOf(req));
    res.setHeader("Cache-Control", "no-store");
    res.status(200).end();
  });

  router.use((req, _res, next) => {
    if (req.method === "POST") assertJsonContentType(req);
    next();
  });
  const jsonType = (req: IncomingMessage) => isJsonContentType(req.headers["content-type"]);
  router.use(express.json({ limit: s.bodyLimitBytes, strict: true, type: jsonType }));

  const sendGrant = (req: Request, res: Response, grant: TokenGrant, transport: "cookie" | "body") => {
    res.setHeader("Cache-Control", "no-store");
    res.setHeader("Pragma", "no-cache");
    const body: Record<string, unknown> = {
      access_token: grant.accessToken,
      token_type: "Bearer",
      expires_in: grant.expiresIn,
    };
    if (transport === "body") body["refresh_token"] = grant.refreshToken;
    else {
      const lifetime = cookieLifetime(grant.session, s.clock.now());
      res.setHeader("Set-Cookie", cookie.issue(req, grant.refreshToken, lifetime));
    }
    res.status(200).json(body);
  };

  /** Runs `work`; a refused refresh token also removes the cookie that carried it. */
  const clearingCookieOnInvalidGrant = async (req: Request, res: Response, work: () => Promise<void>) => {
    try {
      await work();
    } catch (error) {
      if (error instanceof AuthError && error.code === "invalid_grant") res.setHeader("Set-Cookie", cookie.clear(req));
      throw error;
    }
  };

  serve(authRoutes.register, async (req, res, { body }) => {
    if (body.email !== undefined && s.email === undefined) {
      throw new AuthError("invalid_request", "This server does not take email addresses.");
    }
    const user = await s.service.register(body.username, body.password, callerOf(req), body.email);
    res.status(201).json({ user });
  });

  // A browser gets the refresh token only as the HttpOnly cookie: a request that came with the
  // cookie is answered with the cookie, whatever its body asks. Only a client without the cookie
  // (a native app) may ask for the token in the body, so script on a page can never read it.
  serve(authRoutes.login, async (req, res, { body }) => {
    let name: LoginName;
    if (body.username !== undefined && body.email === undefined) name = { username: body.username };
    else if (body.email !== undefined && body.username === undefined && s.email !== undefined) {
      name = { email: body.email };
    } else throw new AuthError("invalid_request", 'Invalid request body: send "username" or "email", exactly one.');
    const outcome = await s.service.beginLogin(name, body.password, callerOf(req));
    if ("mfaRequired" in outcome) {
      // No token and no cookie yet: only the second step issues them.
      res.setHeader("Cache-Control", "no-store");
      res.setHeader("Pragma", "no-cache");
      res.status(200).json({ mfa_required: true, mfa_token: outcome.mfaToken, methods: outcome.methods });
      return;
    }
    const grant = outcome;
    sendGrant(req, res, grant, cookie.isPresent(req) ? "cookie" : (body.token_transport ?? "cookie"));
  });

  serve(authRoutes.refresh, async (req, res, { body }) => {
    if (body.refresh_token !== undefined) {
      // Two tokens would leave it unclear which session to continue, and answering in the body
      // would hand the cookie's session to script.
      if (cookie.isPresent(req)) {
        throw new AuthError("invalid_request", "Send the refresh token in the cookie or in the body, not both.");
      }
      sendGrant(req, res, await s.service.refresh(body.refresh_token, callerOf(req)), "body");
      return;
    }
    assertAllowedOrigin(req, s.allowedOrigins);
    await clearingCookieOnInvalidGrant(req, res, async () => {
      const token = cookie.read(req);
      if (!token) throw new AuthError("invalid_grant", "No refresh token was sent. Log in again.");
      sendGrant(req, res, await s.service.refresh(token, callerOf(req)), "cookie");
    });
  });

  serve(authRoutes.logout, async (req, res, { body }) => {
    let cookieToken: string | undefined;
    if (cookie.isPresent(req)) {
      assertAllowedOrigin(req, s.allowedOrigins);
      await clearingCookieOnInvalidGrant(req, res, async () => {
        cookieToken = cookie.read(req);
      });
    }
    const caller = callerOf(req);
    if (cookieToken !== undefined) await s.service.logoutByRefreshToken(cookieToken, caller);
    if (body.refresh_token !== undefined) await s.service.logoutByRefreshToken(body.refresh_token, caller);
    const byRefreshToken = cookieToken !== undefined || body.refresh_token !== undefined;
    try {
      const bearerToken = readBearerToken(req.headers.authorization);
      if (bearerToken !== undefined) {
        // The signature and claims must check out, but an already-ended session is fine: logout is idempotent.
        const auth = await s.service.authenticate(bearerToken, false);
        await s.service.logoutSession(auth.sessionId, caller);
      }
    } catch (error) {
      // An expired access token beside a refresh token must not stop the logout the refresh token asked for.
      if (!(byRefreshToken && error instanceof AuthError && error.code === "invalid_token")) throw error;
    }
    res.setHeader("Set-Cookie", cookie.clear(req));
    res.status(204).end();
  });

  serve(authRoutes.logoutAll, async (req, res) => {
    await s.service.logoutAll(req.auth!.userId, callerOf(req), req.auth!.sessionId);
    res.setHeader("Set-Cookie", cookie.clear(req));
    res.status(204).end();
  });

  serve(authRoutes.listSessions, async (req, res, { query }) => {
    const limit = query.limit ?? DEFAULT_SESSIONS_PAGE;
    const page = await s.service.listSessionsPage(req.auth!.userId, limit, query.before ?? null);
    res.setHeader("Cache-Control", "no-store");
    res.json({
      sessions: page.sessions.map((session) => describeSession(session, req.auth!.sessionId)),
      next_cursor: page.next ? encodeSessionCursor(page.next) : null,
    });
  });

  serve(authRoutes.endSession, async (req, res, { params }) => {
    await s.service.endOwnSession(req.auth!.userId, params.id, callerOf(req), req.auth!.sessionId);
    res.status(204).end();
  });

  serve(authRoutes.changePassword, async (req, res, { body }) => {
    await s.service.changePassword(req.auth!, body.current_password, body.new_password, callerOf(req));
    res.status(204).end();
  });

  serve(authRoutes.me, async (req, res) => {
    const user = await s.service.me(req.auth!.userId);
    res.setHeader("Cache-Control", "no-store");
    res.json({ user, session_id: req.auth!.sessionId });
  });

  if (s.mfaAccount) {
    mountMfaRoutes({
      service: s.service,
      account: s.mfaAccount,
      serve,
      sendGrant,
      hasCookie: (req) => cookie.isPresent(req),
    });
    if (s.mfa) {
      mountWebAuthnRoutes({
        service: s.service,
        account: s.mfaAccount,
        serve,
        sendGrant,
        hasCookie: (req) => cookie.isPresent(req),
      });
    }
  }
  serve(authRoutes.activity, async (req, res, { query }) => {
    const page = await s.service.activity(req.auth!.userId, {
      limit: query.limit ?? DEFAULT_ACTIVITY_LIMIT,
      ...(query.before === undefined ? {} : { before: query.before }),
    });
    res.setHeader("Cache-Control", "no-store");
    res.json({ events: page.events.map(describeEvent), next_before: page.nextBefore });
  });
  if (s.email !== undefined) mountEmailRoutes(serve, { service: s.service, email: s.email });

  router.use((req) => {
    const message = `No such route: ${req.method} is not served at this path. See the API table in the README.`;
    throw new AuthError("not_found", message);
  });
  router.use(errorHandler(s.logger, s.realm));
  return router;
}

/** The cookie lives as long as the session could: until its idle (or absolute) end. */
function cookieLifetime(session: SessionRecord, now: number): number {
  return (Math.min(session.idleExpiresAt, session.absoluteExpiresAt) - now) / 1000;
}

function describeSession(session: SessionRecord, currentId: string) {
  const iso = (ms: number) => new Date(ms).toISOString();
  return {
    id: session.id,
    created_at: iso(session.createdAt),
    last_used_at: iso(session.lastUsedAt),
    expires_at: iso(Math.min(session.idleExpiresAt, session.absoluteExpiresAt)),
    user_agent: session.userAgent,
    ip: session.ip,
    current: session.id === currentId,
  };
}
