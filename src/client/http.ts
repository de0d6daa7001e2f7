import { GatehouseClientError } from "./errors.ts";

/** The body of `POST /auth/login` and `POST /auth/refresh`. */
export interface TokenResponse {
  access_token: string;
  token_type: "Bearer";
  expires_in: number;
}

/** Joins a base URL ("" for same origin) with a path, without doubling slashes. */
export function joinUrl(base: string, path: string): string {
  if (base === "") return path;
  return base.replace(/\/+$/, "") + "/" + path.replace(/^\/+/, "");
}

/** The origin of the page, or undefined outside a browser. */
export function pageOrigin(): string | undefined {
  const location = (globalThis as { location?: { origin?: unknown } }).location;
  return typeof location?.origin === "string" && location.origin !== "null" ? location.origin : undefined;
}

/** Absolute origin of a URL, resolved against the page. Throws on a relative URL outside a browser. */
export function originOf(url: string): string {
  const page = pageOrigin();
  return new URL(url, page).origin;
}

/** Reads and checks a token response; anything else is an `unexpected_response`. */
export async function readTokenResponse(response: Response): Promise<TokenResponse> {
  let body: unknown;
  try {
    body = await response.json();
  } catch (cause) {
    throw new GatehouseClientError(
      "unexpected_response",
      response.status,
      "The server's token response was not JSON.",
      { cause },
    );
  }
  const record = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
  const token = record["access_token"];
  const expiresIn = record["expires_in"];
  if (
    typeof token !== "string" ||
    token === "" ||
    typeof expiresIn !== "number" ||
    !Number.isFinite(expiresIn) ||
    expiresIn <= 0
  ) {
    throw new GatehouseClientError(
      "unexpected_response",
      response.status,
      "The server's token response lacked access_token or expires_in.",
    );
  }
  return { access_token: token, token_type: "Bearer", expires_in: expiresIn };
}

/** Runs fetch, turning a failure to get any answer into a `network_error`. */
export async function send(fetchImpl: typeof fetch, input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
  try {
    return await fetchImpl(input, init);
  } catch (cause) {
    if (cause instanceof DOMException && cause.name === "AbortError") throw cause;
    throw new GatehouseClientError(
      "network_error",
      0,
      "Could not reach the server. Check the connection and try again.",
      { cause },
    );
  }
}
