import type { Request, Response } from "express";
import type { AuthService, TokenGrant } from "../../core/auth-service.ts";
import { AuthError } from "../../core/errors.ts";
import type { MfaAccount } from "../../core/mfa/mfa-account.ts";
import type { SecondFactorProof } from "../../core/mfa/mfa-service.ts";
import { callerOf } from "../caller.ts";
import type { routeMounter } from "../route-spec.ts";
import { secondFactorRoutes as routes } from "./second-factor-routes.ts";

export interface MfaRouteParts {
  service: AuthService;
  account: MfaAccount;
  /** Mounts a route of the routes table (method, path, authentication, validated input). */
  serve: ReturnType<typeof routeMounter>;
  /** Answers a grant the way login does (cookie or body). */
  sendGrant: (req: Request, res: Response, grant: TokenGrant, transport: "cookie" | "body") => void;
  /** Whether the request carries the refresh cookie (then the answer uses it, as for login). */
  hasCookie: (req: Request) => boolean;
}

const noStore = (res: Response) => {
  res.setHeader("Cache-Control", "no-store");
  res.setHeader("Pragma", "no-cache");
};

/** Mounts the TOTP, recovery-code and second-login-step routes on the auth router. */
export function mountMfaRoutes(p: MfaRouteParts): void {
  const { serve } = p;
  serve(routes.loginMfa, async (req, res, { body }) => {
    const proof = proofOf(body.code, body.recovery_code);
    const grant = await p.service.completeMfaLogin(body.mfa_token, proof, callerOf(req));
    p.sendGrant(req, res, grant, p.hasCookie(req) ? "cookie" : (body.token_transport ?? "cookie"));
  });

  serve(routes.totpEnrol, async (req, res, { body }) => {
    const enrolment = await p.account.enrolTotp(req.auth!, body.current_password, callerOf(req));
    noStore(res);
    res.json({ secret: enrolment.secret, otpauth_uri: enrolment.otpauthUri });
  });

  serve(routes.totpConfirm, async (req, res, { body }) => {
    const codes = await p.account.confirmTotp(req.auth!, body.code, callerOf(req));
    noStore(res);
    res.json({ recovery_codes: codes });
  });

  serve(routes.totpRemove, async (req, res, { body }) => {
    await p.account.disableTotp(req.auth!, body.current_password, callerOf(req));
    res.status(204).end();
  });

  serve(routes.recoveryCodes, async (req, res, { body }) => {
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
