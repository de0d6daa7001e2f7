import { pino, type DestinationStream, type Logger } from "pino";

/**
 * Paths pino blanks out wherever they appear in a log object. Gatehouse never logs bodies,
 * but a library user's own log calls might pass a request through: secrets stay out anyway.
 */
export const REDACTED_PATHS = [
  "req.headers.authorization",
  "req.headers.cookie",
  "res.headers['set-cookie']",
  "headers.authorization",
  "headers.cookie",
  "*.password",
  "*.current_password",
  "*.new_password",
  "*.access_token",
  "*.refresh_token",
  "*.token",
  "password",
  "token",
];

export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";

export function createLogger(options: { level?: LogLevel; destination?: DestinationStream } = {}): Logger {
  const config = {
    level: options.level ?? "info",
    redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
    base: { service: "gatehouse" },
  };
  return options.destination ? pino(config, options.destination) : pino(config);
}

export type { Logger };
