/**
 * HTTP for the soak: every request goes to the next of two instances (round-robin), and a request
 * that never reached a server (connection refused or reset while an instance restarts) is sent
 * again to the other one. Anything that got an HTTP answer is returned as it is, never retried.
 */

/** Socket-level failures: the request was not answered, so sending it elsewhere is what a load balancer does. */
const UNANSWERED = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "UND_ERR_SOCKET", "UND_ERR_CLOSED"]);

export interface Answer {
  status: number;
  body: Record<string, unknown>;
  /** The request was sent more than once (an earlier try may have reached the server before its connection broke). */
  retried: boolean;
}

export interface SendOptions {
  method: "GET" | "POST";
  path: string;
  json?: unknown;
  form?: Record<string, string>;
  bearer?: string;
  /** Client address the server sees (TRUST_PROXY=1): each soak user is its own client. */
  address: string;
}

function socketCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    const code = (current as Error & { code?: unknown }).code;
    if (typeof code === "string" && UNANSWERED.has(code)) return code;
    current = current.cause;
  }
  return undefined;
}

export class SoakClient {
  retries = 0;
  #next = 0;
  readonly #urls: readonly string[];

  constructor(urls: readonly string[]) {
    this.#urls = urls;
  }

  async send(options: SendOptions): Promise<Answer> {
    const headers: Record<string, string> = { "x-forwarded-for": options.address };
    let body: string | undefined;
    if (options.json !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(options.json);
    } else if (options.form !== undefined) {
      headers["content-type"] = "application/x-www-form-urlencoded";
      body = new URLSearchParams(options.form).toString();
    }
    if (options.bearer !== undefined) headers["authorization"] = `Bearer ${options.bearer}`;

    let index = this.#next++ % this.#urls.length;
    // Both instances down at once never happens in the soak; give up after ~30 s if it does.
    for (let attempt = 0; ; attempt++) {
      try {
        const response = await fetch(`${this.#urls[index]}${options.path}`, {
          method: options.method,
          headers,
          ...(body === undefined ? {} : { body }),
        });
        const text = await response.text();
        const parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
        return { status: response.status, body: parsed, retried: attempt > 0 };
      } catch (error) {
        if (socketCode(error) === undefined || attempt >= 60) throw error;
        this.retries++;
        index = (index + 1) % this.#urls.length;
        if (attempt % 2 === 1) await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }
}
