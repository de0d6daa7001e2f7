/** Small HTTP helpers for tests: JSON requests against a test server, cookie jar of one. */

export interface JsonResponse {
  status: number;
  headers: Headers;
  body: unknown;
  text: string;
}

/** Every response body a test sees, for the leak scan in test/leaks.test.ts style checks. */
export const seenBodies: string[] = [];

export async function request(url: string, init: RequestInit & { json?: unknown } = {}): Promise<JsonResponse> {
  const { json, ...rest } = init;
  const headers = new Headers(rest.headers);
  if (json !== undefined && !headers.has("content-type")) headers.set("content-type", "application/json");
  const response = await fetch(url, {
    ...rest,
    headers,
    ...(json !== undefined ? { body: JSON.stringify(json) } : {}),
  });
  const text = await response.text();
  seenBodies.push(text);
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = text;
  }
  return { status: response.status, headers: response.headers, body, text };
}

/** The refresh cookie's name with the default settings (Secure, so `__Secure-` prefixed). */
export const REFRESH_COOKIE = "__Secure-gatehouse_refresh";

/** Value of the refresh cookie in a Set-Cookie header, if any. */
export function refreshCookieFrom(headers: Headers, name = REFRESH_COOKIE): string | undefined {
  for (const line of headers.getSetCookie()) {
    const [pair] = line.split(";");
    const eq = pair?.indexOf("=") ?? -1;
    if (pair && eq > 0 && pair.slice(0, eq) === name) return pair.slice(eq + 1);
  }
  return undefined;
}

export const STRONG_PASSWORD = "correct horse battery staple 42";
