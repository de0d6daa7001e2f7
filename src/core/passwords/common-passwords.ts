import { createRequire } from "node:module";

interface LanguageCommon {
  dictionary: { "passwords-common": unknown };
}

let commonPasswords: ReadonlySet<string> | undefined;

/**
 * The common/breached password list shipped by @zxcvbn-ts/language-common (about 49,000
 * entries, all lower case), loaded on first use and kept as a Set. Loading is synchronous
 * and lazy so that importing Gatehouse stays cheap and the policy check stays synchronous.
 */
export function getCommonPasswords(): ReadonlySet<string> {
  if (commonPasswords === undefined) {
    const require = createRequire(import.meta.url);
    const list = (require("@zxcvbn-ts/language-common") as LanguageCommon).dictionary["passwords-common"];
    if (!Array.isArray(list) || list.length === 0) {
      throw new Error("@zxcvbn-ts/language-common has no passwords-common list; reinstall the package.");
    }
    commonPasswords = new Set(list.map((entry) => String(entry).toLowerCase()));
  }
  return commonPasswords;
}

/** Whether `password` is on the common list, ignoring case. */
export function isCommonPassword(password: string): boolean {
  return getCommonPasswords().has(password.toLowerCase());
}
