/*
 * RFC 8176 authentication method references, in a module of their own with no dependency:
 * the token code (and with it `gatehouse/resource-server`) imports them without pulling in
 * the WebAuthn library.
 */

/** "hwk" for a key bound to one device, "swk" for a synced (backed-up) one. */
export type KeyKind = "hwk" | "swk";

export const AMR = {
  password: ["pwd"],
  // "otp": RFC 6238 codes are one-time passwords; "mfa": two independent factors were shown.
  passwordAndTotp: ["pwd", "otp", "mfa"],
  // A recovery code is single-use but not an RFC 4226/6238 OTP, so "otp" would overstate it.
  passwordAndRecoveryCode: ["pwd", "mfa"],
} as const;

/** The amr of a passkey login, alone or after the password. */
export function passkeyAmr(keyKind: KeyKind, afterPassword: boolean): string[] {
  // User verification is required, so the passkey alone is two factors (possession plus PIN or biometric).
  return afterPassword ? ["pwd", keyKind, "mfa"] : [keyKind, "user", "mfa"];
}
