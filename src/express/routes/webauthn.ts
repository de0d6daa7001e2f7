import type { Request, RequestHandler, Response, Router } from "express";
import type { AuthService, TokenGrant } from "../../core/auth-service.ts";
import { AuthError } from "../../core/errors.ts";
import type { MfaAccount } from "../../core/mfa/mfa-account.ts";
import type { MfaService } from "../../core/mfa/mfa-service.ts";
import type { PasskeyRecord } from "../../core/store/store.ts";
import {
  parseBody,
  passkeyLoginBody,
  passkeyLoginOptionsBody,
  passkeyOptionsBody,
  passkeyRegisterBody,
  passkeyRenameBody,
  currentPasswordBody,
} from "../bodies.ts";
import { callerOf } from "../caller.ts";

export interface WebAuthnRouteParts {
  service: AuthService;
  account: MfaAccount;
  mfa: MfaService;
  bearer: RequestHandler;
  sendGrant: (req: Request, res: Response, grant: TokenGrant, transport: "cookie" | "body") => void;
  hasCookie: (req: Request) => boolean;
}

/** The passkey routes, for the OpenAPI description. */
export const WEBAUTHN_ROUTES = [
  {
    method: "post",
    path: "/webauthn/register/options",
    body: passkeyOptionsBody,
    auth: "bearer",
    summary: "Passkey options",
  },
  {
    method: "post",
    path: "/webauthn/register/verify",
    body: passkeyRegisterBody,
    auth: "bearer",
    summary: "Add a passkey",
  },
  { method: "get", path: "/webauthn/credentials", auth: "bearer", summary: "List passkeys" },
  { method: "patch", path: "/webauthn/credentials/:id", body: passkeyRenameBody, auth: "bearer", summary: "Rename" },
  {
    method: "delete",
    path: "/webauthn/credentials/:id",
    body: currentPasswordBody,
    auth: "bearer",
    summary: "Remove a passkey",
  },
  {
    method: "post",
    path: "/webauthn/login/options",
    body: passkeyLoginOptionsBody,
    auth: "none",
    summary: "Login options",
  },
  {
    method: "post",
    path: "/webauthn/login/verify",
    body: passkeyLoginBody,
    auth: "none",
    summary: "Log in with a passkey",
  },
] as const;

/** Credential ids are base64url of at most 1023 bytes (WebAuthn §5.1). */
const CREDENTIAL_ID = /^[A-Za-z0-9_-]{1,1400}$/;

function credentialIdParam(req: Request): string {
  const id = req.params["id"];
  if (typeof id !== "string" || !CREDENTIAL_ID.test(id)) {
    throw new AuthError("invalid_request", "That is not a passkey id. List them with GET /auth/webauthn/credentials.");
  }
  return id;
}

function describePasskey(p: PasskeyRecord) {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    id: p.id,
    name: p.name,
    created_at: iso(p.createdAt),
    last_used_at: iso(p.lastUsedAt),
    device_type: p.deviceType,
    backed_up: p.backedUp,
    transports: p.transports,
  };
}

const noStore = (res: Response) => {
  res.setHeader("Cache-Control", "no-store");
  res.setHeader("Pragma", "no-cache");
};

/** Mounts the passkey routes on the auth router. */
export function mountWebAuthnRoutes(router: Router, p: WebAuthnRouteParts): void {
  router.post("/webauthn/register/options", p.bearer, async (req, res) => {
    const body = parseBody(passkeyOptionsBody, req);
    const options = await p.account.passkeyRegistrationOptions(req.auth!, body.current_password, callerOf(req));
    noStore(res);
    res.json(options);
  });

  router.post("/webauthn/register/verify", p.bearer, async (req, res) => {
    const body = parseBody(passkeyRegisterBody, req);
    const passkey = await p.account.verifyPasskeyRegistration(req.auth!, body.response, body.name);
    res.status(201).json({ credential: describePasskey(passkey) });
  });

  router.get("/webauthn/credentials", p.bearer, async (req, res) => {
    const passkeys = await p.account.listPasskeys(req.auth!);
    noStore(res);
    res.json({ credentials: passkeys.map(describePasskey) });
  });

  router.patch("/webauthn/credentials/:id", p.bearer, async (req, res) => {
    const id = credentialIdParam(req);
    const body = parseBody(passkeyRenameBody, req);
    const passkey = await p.account.renamePasskey(req.auth!, id, body.name);
    res.json({ credential: describePasskey(passkey) });
  });

  router.delete("/webauthn/credentials/:id", p.bearer, async (req, res) => {
    const id = credentialIdParam(req);
    const body = parseBody(currentPasswordBody, req);
    await p.account.removePasskey(req.auth!, id, body.current_password, callerOf(req));
    res.status(204).end();
  });

  router.post("/webauthn/login/options", async (req, res) => {
    const body = parseBody(passkeyLoginOptionsBody, req);
    const options =
      body.mfa_token === undefined
        ? await p.account.passkeyLoginOptions()
        : await p.mfa.passkeyOptionsFor(body.mfa_token);
    noStore(res);
    res.json(options);
  });

  router.post("/webauthn/login/verify", async (req, res) => {
    const body = parseBody(passkeyLoginBody, req);
    const caller = callerOf(req);
    const grant =
      body.mfa_token === undefined
        ? await p.service.loginWithPasskey(body.response, caller)
        : await p.service.completeMfaLogin(body.mfa_token, { webauthn: body.response }, caller);
    p.sendGrant(req, res, grant, p.hasCookie(req) ? "cookie" : (body.token_transport ?? "cookie"));
  });
}
