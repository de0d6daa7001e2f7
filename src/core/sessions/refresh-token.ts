import { createHash, createHmac, randomBytes } from "node:crypto";

/** 256 random bits, base64url: 43 characters. */
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export function generateRefreshToken(): string {
  return randomBytes(32).toString("base64url");
}

/** Cheap shape check so junk never reaches the database. */
export function isWellFormedRefreshToken(value: unknown): value is string {
  return typeof value === "string" && TOKEN_PATTERN.test(value);
}

/** What is stored: a SHA-256 of the token. The token itself never is. */
export function hashRefreshToken(token: string): string {
  return createHash("sha256").update(token).digest("base64url");
}

/**
 * The successor of a refresh token is derived, not random: HMAC(rotationKey, token).
 * Every instance that sees the same token inside the grace window computes the same
 * successor without storing it, so concurrent refreshes can never fork a session into
 * two live branches. The rotation key is secret and shared through the store, so the
 * chain cannot be computed ahead by anyone holding only a token.
 */
export function deriveSuccessorToken(rotationKey: Buffer, token: string): string {
  return createHmac("sha256", rotationKey).update("gatehouse.refresh.successor:").update(token).digest("base64url");
}
