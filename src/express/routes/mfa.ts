import type { Request, RequestHandler, Response, Router } from "express";
import type { AuthService, TokenGrant } from "../../core/auth-service.ts";
import { AuthError } from "../../core/errors.ts";
import type { MfaAccount } from "../../core/mfa/mfa-account.ts";
import type { SecondFactorProof } from "../../core/mfa/mfa-service.ts";
import { currentPasswordBody, mfaLoginBody, parseBody, totpConfirmBody, totpEnrolBody } from "../bodies.ts";
import { callerOf } from "../caller.ts";

export interface MfaRouteParts {
  service: AuthService;
  account: MfaAccount;
  bearer: RequestHandler;
  /** Answers a grant the way login does (cookie or body). */
  sendGrant: (req: Request, res: Response, grant: TokenGrant, transport: "cookie" | "body") => void;
  /** Whether the request carries the refresh cookie (then the answer uses it, as for login). */
  hasCookie: (req: Request) => boolean;
}

/** The second-factor routes, for the OpenAPI description. */
export const MFA_ROUTES = [
  { method: "post", path: "/login/mfa", body: mfaLoginBody, auth: "none", summary: "Second login step" },
  { method: "post", path: "/mfa/totp", body: totpEnrolBody, auth: "bearer", summary: "Start TOTP enrolment" },
  { method: "post", path: "/mfa/totp/confirm", body: totpConfirmBody, auth: "bearer", summary: "Turn TOTP on" },
  { method: "delete", path: "/mfa/totp", body: currentPasswordBody, auth: "bearer", summary: "Turn TOTP off" },
  {
    method: "post",
    path: "/mfa/recovery-codes",
    body: currentPasswordBody,
    auth: "bearer",
    summary: "New recovery codes",
  },
] as const;

const noStore = (res: Response) => {
  res.setHeader("Cache-Control", "no-store");
  res.setHeader("Pragma", "no-cache");
};

/** Mounts the second-factor routes on the auth router. */
export function mountMfaRoutes(router: Router, p: MfaRouteParts): void {
  router.post("/login/mfa", async (req, res) => {
    const body = parseBody(mfaLoginBody, req);
    const proof = proofOf(body.code, body.recovery_code);
    const grant = await p.service.completeMfaLogin(body.mfa_token, proof, callerOf(req));
    p.sendGrant(req, res, grant, p.hasCookie(req) ? "cookie" : (body.token_transport ?? "cookie"));
  });

  router.post("/mfa/totp", p.bearer, async (req, res) => {
    const body = parseBody(totpEnrolBody, req);
    const enrolment = await p.account.enrolTotp(req.auth!, body.current_password, callerOf(req));
    noStore(res);
    res.json({ secret: enrolment.secret, otpauth_uri: enrolment.otpauthUri });
  });

  router.post("/mfa/totp/confirm", p.bearer, async (req, res) => {
    const body = parseBody(totpConfirmBody, req);
    const codes = await p.account.confirmTotp(req.auth!, body.code);
    noStore(res);
    res.json({ recovery_codes: codes });
  });

  router.delete("/mfa/totp", p.bearer, async (req, res) => {
    const body = parseBody(currentPasswordBody, req);
    await p.account.disableTotp(req.auth!, body.current_password, callerOf(req));
    res.status(204).end();
  });

  router.post("/mfa/recovery-codes", p.bearer, async (req, res) => {
    const body = parseBody(currentPasswordBody, req);
    const codes = await p.account.regenerateRecoveryCodes(req.auth!, body.current_password, callerOf(req));
    noStore(res);
    res.json({ recovery_codes: codes });
  });
}

function proofOf(code: string | undefined, recoveryCode: string | undefined): SecondFactorProof {
  if ((code === undefined) === (recoveryCode === undefined)) {
    throw new AuthError("invalid_request", 'Invalid request body: send exactly one of "code" and "recovery_code".');
  }
  return code !== undefined ? { code } : { recoveryCode: recoveryCode! };
}
