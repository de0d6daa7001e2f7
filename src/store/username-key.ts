/**
 * The lookup key for a username: NFKC-normalised, then lowercased, so "Alice", "ALICE" and
 * the full-width "Ａｌｉｃｅ" are one account. The display username is stored as given.
 */
export function usernameKey(username: string): string {
  return username.normalize("NFKC").toLowerCase();
}
