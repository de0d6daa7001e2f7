import type { AuthContext } from "../core/auth-service.ts";

declare global {
  namespace Express {
    interface Request {
      /** Set by `requireAuth()`: the verified access token's claims, user id and session id. */
      auth?: AuthContext;
    }
  }
}

export type { AuthContext };
