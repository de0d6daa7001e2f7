/**
 * What happened to an account, as the audit trail, the user's activity page and webhooks
 * tell it. Stable names: they are stored, filtered on and sent to other systems.
 */
export const SECURITY_EVENT_TYPES = [
  "user_registered",
  "login_succeeded",
  "login_failed",
  "login_throttled",
  "refresh_reused",
  "logout",
  "logout_all",
  "session_revoked",
  "password_changed",
  "password_reset",
  "email_verified",
  "email_changed",
  "mfa_enabled",
  "mfa_disabled",
  "user_disabled",
  "user_enabled",
] as const;

export type SecurityEventType = (typeof SECURITY_EVENT_TYPES)[number];

/** Details of an event: flat, small, and never a token, password, code or secret. */
export type SecurityEventData = Record<string, string | number | boolean | null>;

/** What a service records. */
export interface SecurityEventInput {
  type: SecurityEventType;
  /** The account it concerns; null when there is none (a failed login for an unknown name). */
  userId: string | null;
  /** The session it concerns (the one ended, or the caller's). */
  sessionId?: string | null;
  ip?: string | null;
  userAgent?: string | null;
  data?: SecurityEventData;
}

/** A recorded event. */
export interface SecurityEvent {
  /** A UUIDv7: ids sort in the order the events happened; also the webhook's `webhook-id`. */
  id: string;
  type: SecurityEventType;
  /** Milliseconds since the epoch. */
  at: number;
  userId: string | null;
  sessionId: string | null;
  ip: string | null;
  userAgent: string | null;
  data: SecurityEventData;
}

export function isSecurityEventType(value: string): value is SecurityEventType {
  return (SECURITY_EVENT_TYPES as readonly string[]).includes(value);
}
