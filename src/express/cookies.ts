import type { Request } from "express";
import { AuthError } from "../core/errors.ts";

/** The refresh cookie as configured: the base name, an optional fixed Path, and Secure. */
export interface RefreshCookieSettings {
  name: string;
  /** Fixed Path; unset: where the router is mounted (`req.baseUrl`). */
  path: string | undefined;
  secure: boolean;
}

/** Reads, sets and clears the refresh cookie of one router. */
export interface RefreshCookie {
  /** The name on the wire: `__Secure-<name>` when Secure. */
  readonly name: string;
  /** Whether the request carries the cookie's name at all (once or more, any value). */
  isPresent(req: Request): boolean;
  /** The cookie's value, or undefined when absent. Sent twice: AuthError("invalid_grant"). */
  read(req: Request): string | undefined;
  /** A Set-Cookie value carrying `value` for `maxAgeSeconds`. */
  issue(req: Request, value: string, maxAgeSeconds: number): string;
  /** A Set-Cookie value that removes the cookie. */
  clear(req: Request): string;
}

const PREFIXED = /^__(Secure|Host)-/i;
const SENT_TWICE =
  "The refresh cookie was sent twice, so neither can be trusted. " +
  "Log in again; if this repeats, clear this site's cookies.";

/**
 * The cookie's name on the wire. With Secure it carries the `__Secure-` prefix
 * (RFC 6265bis §4.1.3.1): browsers accept such a cookie only over HTTPS with Secure set, so a
 * sibling subdomain speaking plain HTTP, or a network attacker, cannot plant one. Without
 * Secure the prefix would make browsers drop the cookie, so the base name is used.
 */
export function refreshCookieName(base: string, secure: boolean): string {
  return secure && !PREFIXED.test(base) ? `__Secure-${base}` : base;
}

/** Every value the Cookie header gives `name`, in order. */
function cookieValues(header: string | undefined, name: string): string[] {
  if (!header) return [];
  const values: string[] = [];
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq !== -1 && part.slice(0, eq).trim() === name) values.push(part.slice(eq + 1).trim());
  }
  return values;
}

/** RFC 3986 path characters without `;` (it would end the attribute) and `,` (cookie folding). */
const SAFE_PATH_CHARACTER = /[A-Za-z0-9\-._~!$&'()*+=:@/]/;
const PERCENT_ESCAPE = /^%[0-9A-Fa-f]{2}$/;

/**
 * A Path attribute value from a URL path. Express's `req.baseUrl` is the raw request path,
 * and a route parameter in the mount path (`/t/:tenant/auth`) lets the client choose it: a
 * `;` there would start attributes of the client's choosing. Anything outside the safe set is
 * percent-encoded, as a browser would send it; existing `%XX` escapes stay as they are.
 */
export function cookiePath(path: string): string {
  let out = "";
  for (let i = 0; i < path.length; i++) {
    const ch = path[i]!;
    if (SAFE_PATH_CHARACTER.test(ch) || (ch === "%" && PERCENT_ESCAPE.test(path.slice(i, i + 3)))) out += ch;
    else for (const byte of Buffer.from(ch, "utf8")) out += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out.startsWith("/") ? out : `/${out}`;
}

/**
 * The refresh cookie: HttpOnly, SameSite=Strict, scoped to the auth routes by Path, never a
 * Domain. A request carrying its name twice is refused: the second one can only come from a
 * cookie planted for a parent domain or another path (cookie tossing), and which of the two
 * is the user's own cannot be told.
 */
export function createRefreshCookie(settings: RefreshCookieSettings): RefreshCookie {
  const name = refreshCookieName(settings.name, settings.secure);
  const fixedPath = settings.path === undefined ? undefined : cookiePath(settings.path);
  const pathOf = (req: Request) => fixedPath ?? cookiePath(req.baseUrl || "/");
  const setCookie = (req: Request, value: string, maxAgeSeconds: number) => {
    const parts = [`${name}=${value}`, `Path=${pathOf(req)}`, `Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}`];
    parts.push("HttpOnly", "SameSite=Strict");
    if (settings.secure) parts.push("Secure");
    return parts.join("; ");
  };
  return {
    name,
    isPresent: (req) => cookieValues(req.headers.cookie, name).length > 0,
    read(req) {
      const values = cookieValues(req.headers.cookie, name);
      if (values.length > 1) throw new AuthError("invalid_grant", SENT_TWICE);
      return values[0];
    },
    issue: setCookie,
    clear: (req) => `${setCookie(req, "", 0)}; Expires=Thu, 01 Jan 1970 00:00:00 GMT`,
  };
}
