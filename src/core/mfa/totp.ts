import { Secret, TOTP } from "otpauth";

/** RFC 6238 as authenticator apps implement it: HMAC-SHA-1, 6 digits, 30-second steps. */
const ALGORITHM = "SHA1";
const DIGITS = 6;
const PERIOD_SECONDS = 30;
/** One step either side absorbs clock drift and the time it takes to type (RFC 6238 §5.2). */
const WINDOW = 1;
/** 160 bits, the HMAC-SHA-1 output size RFC 4226 §4 recommends for the shared secret. */
const SECRET_BYTES = 20;

const SIX_DIGITS = /^\d{6}$/;

/** A fresh random TOTP secret, base32 (as otpauth URIs and authenticator apps spell it). */
export function generateTotpSecret(): string {
  return new Secret({ size: SECRET_BYTES }).base32;
}

function totpOf(secretBase32: string, issuer = "", label = ""): TOTP {
  return new TOTP({
    issuer,
    label,
    algorithm: ALGORITHM,
    digits: DIGITS,
    period: PERIOD_SECONDS,
    secret: Secret.fromBase32(secretBase32),
  });
}

/** The `otpauth://totp/...` URI an authenticator app reads from a QR code. */
export function totpUri(secretBase32: string, issuer: string, label: string): string {
  return totpOf(secretBase32, issuer, label).toString();
}

/** The RFC 6238 time step (T) at `nowMs`. */
export function totpStep(nowMs: number): number {
  return Math.floor(nowMs / 1000 / PERIOD_SECONDS);
}

/**
 * The time step whose code `code` is, within one step of `nowMs`, or null when it matches
 * none. Whether that step was already used is the caller's to check (replay refusal).
 */
export function matchTotpStep(secretBase32: string, code: string, nowMs: number): number | null {
  const token = code.replace(/\s+/g, "");
  if (!SIX_DIGITS.test(token)) return null;
  // otpauth compares in constant time.
  const delta = totpOf(secretBase32).validate({ token, timestamp: nowMs, window: WINDOW });
  return delta === null ? null : totpStep(nowMs) + delta;
}

/** The code for `nowMs` (tests and the CLI's self-check only; the server never needs to generate one). */
export function totpCode(secretBase32: string, nowMs: number): string {
  return totpOf(secretBase32).generate({ timestamp: nowMs });
}
