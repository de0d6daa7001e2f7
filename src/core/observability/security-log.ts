/** Fields of a log line: ids, addresses and outcomes, never a token, password, cookie or code. */
export type LogFields = Record<string, string | number | boolean | null | undefined>;

/**
 * What the core logs: warnings an operator should see (a refresh token reused, a login
 * throttled, a disabled account trying to log in). A pino logger fits as it is.
 */
export interface SecurityLog {
  warn(fields: LogFields, message: string): void;
}

/** Logging off (tests and tools that build services directly). */
export const NO_SECURITY_LOG: SecurityLog = Object.freeze({ warn: () => undefined });
