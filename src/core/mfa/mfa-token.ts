import { createHash, randomBytes } from "node:crypto";

/** Prefix so a leaked value is recognisable (secret scanners) and never mistaken for another token. */
const PREFIX = "ghmfa_";
const WELL_FORMED = /^ghmfa_[A-Za-z0-9_-]{43}$/;

/** A fresh opaque token for the second login step: 256 random bits. */
export function generateMfaToken(): string {
  return PREFIX + randomBytes(32).toString("base64url");
}

export function isWellFormedMfaToken(value: unknown): value is string {
  return typeof value === "string" && WELL_FORMED.test(value);
}

/** Only the hash is stored, so a database read alone cannot finish someone's login. */
export function hashMfaToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("base64url");
}
