import { usernameKey as coreUsernameKey } from "../core/users/username.ts";

/**
 * The lookup key for a username: NFKC-normalised, trimmed, then lowercased, so "Alice",
 * "ALICE" and the full-width "Ａｌｉｃｅ" are one account. The display username is stored as given.
 * The rule itself lives with the other username rules in the core.
 */
export function usernameKey(username: string): string {
  return coreUsernameKey(username);
}
