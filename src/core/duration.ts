const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/**
 * Parses a duration setting into whole seconds: a number of seconds (`900`) or a number
 * with a unit (`15m`, `7d`, `12h`, `30s`). Returns undefined when the text is not one.
 */
export function parseDurationSeconds(text: string): number | undefined {
  const match = /^\s*(\d+)\s*([smhd]?)\s*$/.exec(text);
  if (!match) return undefined;
  const value = Number(match[1]);
  const unit = UNITS[match[2] || "s"] ?? 1;
  const seconds = value * unit;
  return Number.isSafeInteger(seconds) ? seconds : undefined;
}
