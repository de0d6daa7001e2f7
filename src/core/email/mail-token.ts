import { createHash, randomBytes } from "node:crypto";

/** 256 random bits, base64url: 43 characters that survive any URL fragment and mail client. */
export function newMailToken(): string {
  return randomBytes(32).toString("base64url");
}

/**
 * What the database keeps of a token. A fast hash is enough: the token has 256 random bits,
 * so nobody can guess one from its hash (OWASP Forgot Password Cheat Sheet: store tokens hashed).
 */
export function mailTokenHash(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/** Tokens we issue are exactly this; anything else is refused before touching the database. */
export const MAIL_TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;
