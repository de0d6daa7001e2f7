/** Reads one cookie from a Cookie header without a parser dependency. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq === -1) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export interface RefreshCookieOptions {
  name: string;
  path: string;
  secure: boolean;
}

/** HttpOnly, SameSite=Strict, scoped to the auth routes by Path, never a Domain. */
export function refreshCookie(options: RefreshCookieOptions, value: string, maxAgeSeconds: number): string {
  const parts = [
    `${options.name}=${value}`,
    `Path=${options.path}`,
    `Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}`,
    "HttpOnly",
    "SameSite=Strict",
  ];
  if (options.secure) parts.push("Secure");
  return parts.join("; ");
}

export function clearedRefreshCookie(options: RefreshCookieOptions): string {
  return `${refreshCookie(options, "", 0)}; Expires=Thu, 01 Jan 1970 00:00:00 GMT`;
}
