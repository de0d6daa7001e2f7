import type { Request, Response } from "express";
import type { AuthService, TokenGrant } from "../../core/auth-service.ts";
import type { MfaAccount } from "../../core/mfa/mfa-account.ts";
import type { PasskeyRecord } from "../../core/store/store.ts";
import { callerOf } from "../caller.ts";
import type { routeMounter } from "../route-spec.ts";
import { secondFactorRoutes as routes } from "./second-factor-routes.ts";

export interface WebAuthnRouteParts {
  service: AuthService;
  account: MfaAccount;
  serve: ReturnType<typeof routeMounter>;
  sendGrant: (req: Request, res: Response, grant: TokenGrant, transport: "cookie" | "body") => void;
  hasCookie: (req: Request) => boolean;
}

function describePasskey(p: PasskeyRecord) {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    id: p.id,
    name: p.name,
    created_at: new Date(p.createdAt).toISOString(),
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
export function mountWebAuthnRoutes(p: WebAuthnRouteParts): void {
  const { serve } = p;
  serve(routes.passkeyRegisterOptions, async (req, res, { body }) => {
    const options = await p.account.passkeyRegistrationOptions(req.auth!, body.current_password, callerOf(req));
    noStore(res);
    res.json(options);
  });

  serve(routes.passkeyRegisterVerify, async (req, res, { body }) => {
    const passkey = await p.account.verifyPasskeyRegistration(req.auth!, body.response, body.name, callerOf(req));
    res.status(201).json({ credential: describePasskey(passkey) });
  });

  serve(routes.passkeyList, async (req, res) => {
    const passkeys = await p.account.listPasskeys(req.auth!);
    noStore(res);
    res.json({ credentials: passkeys.map(describePasskey) });
  });

  serve(routes.passkeyRename, async (req, res, { body, params }) => {
    const passkey = await p.account.renamePasskey(req.auth!, params.id, body.name);
    res.json({ credential: describePasskey(passkey) });
  });

  serve(routes.passkeyRemove, async (req, res, { body, params }) => {
    await p.account.removePasskey(req.auth!, params.id, body.current_password, callerOf(req));
    res.status(204).end();
  });

  serve(routes.passkeyLoginOptions, async (req, res, { body }) => {
    const options = await p.service.passkeyLoginOptions(body.mfa_token, callerOf(req));
    noStore(res);
    res.json(options);
  });

  serve(routes.passkeyLoginVerify, async (req, res, { body }) => {
    const caller = callerOf(req);
    const grant =
      body.mfa_token === undefined
        ? await p.service.loginWithPasskey(body.response, caller)
        : await p.service.completeMfaLogin(body.mfa_token, { webauthn: body.response }, caller);
    p.sendGrant(req, res, grant, p.hasCookie(req) ? "cookie" : (body.token_transport ?? "cookie"));
  });
}
