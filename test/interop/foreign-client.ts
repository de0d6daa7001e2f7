/**
 * A client that is not Gatehouse's: plain `fetch` with `URLSearchParams` bodies, the way a
 * resource server in any language talks to the RFC 7662 and RFC 7009 endpoints. Nothing here
 * imports Gatehouse code.
 */
import { randomBytes } from "node:crypto";

export const PASSWORD = "correct horse battery staple 42";

export const newIntrospectionToken = (): string => randomBytes(32).toString("hex");

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  body: unknown;
}

async function answer(response: Response): Promise<Answer> {
  const text = await response.text();
  let body: unknown = null;
  if (text.length > 0) {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  return { status: response.status, headers: response.headers, text, body };
}

/** POST with a form body; `fetch` sets `Content-Type: application/x-www-form-urlencoded;charset=UTF-8` itself. */
export async function postForm(url: string, form: Record<string, string>, headers: Record<string, string> = {}) {
  return answer(await fetch(url, { method: "POST", body: new URLSearchParams(form), headers }));
}

export async function postJson(url: string, json: unknown, headers: Record<string, string> = {}) {
  return answer(
    await fetch(url, {
      method: "POST",
      body: JSON.stringify(json),
      headers: { "content-type": "application/json", ...headers },
    }),
  );
}

export interface NativeSession {
  access: string;
  refresh: string;
}

/** Registers (once) and logs in as a native client: both tokens in the body, no cookie. */
export async function nativeLogin(base: string, username: string, register = true): Promise<NativeSession> {
  if (register) {
    const registered = await postJson(`${base}/auth/register`, { username, password: PASSWORD });
    if (registered.status !== 201) throw new Error(`register answered ${registered.status}: ${registered.text}`);
  }
  const login = await postJson(`${base}/auth/login`, { username, password: PASSWORD, token_transport: "body" });
  if (login.status !== 200) throw new Error(`login answered ${login.status}: ${login.text}`);
  const body = login.body as { access_token: string; refresh_token: string };
  return { access: body.access_token, refresh: body.refresh_token };
}

export async function nativeRefresh(base: string, refreshToken: string): Promise<Answer> {
  return postJson(`${base}/auth/refresh`, { refresh_token: refreshToken });
}
