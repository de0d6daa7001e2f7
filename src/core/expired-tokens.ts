import type { Store } from "./store/store.ts";

/** How many expired one-time tokens one prune deleted, by kind. */
export interface ExpiredTokensPruned {
  mailLinks: number;
  mfaTokens: number;
  webauthnChallenges: number;
}

/**
 * Deletes one-time tokens past their expiry: mailed links, the tokens between the two login
 * steps, and WebAuthn challenges. An expired token is refused whether or not its row is still
 * there; deleting the rows only keeps the tables from growing with every attempt ever made.
 */
export async function pruneExpiredTokens(
  store: Pick<Store, "pruneMailTokens" | "pruneMfaTokens" | "pruneWebAuthnChallenges">,
  now: number,
): Promise<ExpiredTokensPruned> {
  const mailLinks = await store.pruneMailTokens(now);
  const mfaTokens = await store.pruneMfaTokens(now);
  const webauthnChallenges = await store.pruneWebAuthnChallenges(now);
  return { mailLinks, mfaTokens, webauthnChallenges };
}
