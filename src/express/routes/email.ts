import type { AuthService } from "../../core/auth-service.ts";
import type { EmailService } from "../../core/email/email-service.ts";
import { callerOf } from "../caller.ts";
import type { routeMounter } from "../route-spec.ts";
import { authRoutes } from "../routes.ts";

export interface EmailRouteParts {
  service: AuthService;
  email: EmailService;
}

/**
 * Verified addresses and account recovery (their specs are in the routes table). Answers that
 * could tell whether an address is known (change, forgot) are a bare `202` whatever happened;
 * the mail says the rest.
 */
export function mountEmailRoutes(serve: ReturnType<typeof routeMounter>, p: EmailRouteParts): void {
  serve(authRoutes.verifyEmail, async (_req, res, { body }) => {
    await p.email.verify(body.token);
    res.status(204).end();
  });

  serve(authRoutes.resendVerification, async (req, res) => {
    await p.email.resend(req.auth!.userId, callerOf(req).ip);
    res.status(202).end();
  });

  serve(authRoutes.changeEmail, async (req, res, { body }) => {
    const caller = callerOf(req);
    await p.service.verifyCurrentPassword(req.auth!, body.current_password, caller);
    await p.email.changeEmail(req.auth!.userId, body.email, caller.ip);
    res.status(202).end();
  });

  serve(authRoutes.forgotPassword, async (req, res, { body }) => {
    await p.email.forgotPassword(body.email, callerOf(req).ip);
    res.status(202).end();
  });

  serve(authRoutes.resetPassword, async (_req, res, { body }) => {
    await p.email.resetPassword(body.token, body.new_password);
    res.status(204).end();
  });
}
