import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";

/** A new Standard Webhooks secret, as an operator would make one. */
export const newWebhookSecret = (): string => `whsec_${randomBytes(32).toString("base64")}`;

export interface ReceivedWebhook {
  id: string;
  timestamp: string;
  signature: string;
  /** Parsed by the standardwebhooks package after it verified the signature; undefined if it refused. */
  verified: unknown;
  body: string;
  /** The status this receiver answered (undefined while it holds the request). */
  status: number | undefined;
}

/** What to answer for a request: a status, or "hold" to keep it waiting (until the receiver closes). */
export type Answer = (webhook: ReceivedWebhook, attemptsOfThisId: number) => number | "hold";

/**
 * A real webhook receiver on 127.0.0.1 that verifies every request with the `standardwebhooks`
 * package (the reference implementation) and records it. It can go down and come back on the
 * same port, and answer however a test wants.
 */
export class WebhookReceiver {
  readonly secret: string;
  readonly received: ReceivedWebhook[] = [];
  answer: Answer = () => 204;
  #server: Server | undefined;
  #port = 0;
  readonly #held = new Set<ServerResponse>();

  constructor(secret = newWebhookSecret()) {
    this.secret = secret;
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}/hooks/gatehouse`;
  }

  /** Starts listening (on the same port as before, after a stop). */
  async start(): Promise<void> {
    const server = createServer((req, res) => void this.#handle(req, res));
    server.keepAliveTimeout = 500;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.#port, "127.0.0.1", () => resolve());
    });
    this.#port = (server.address() as AddressInfo).port;
    this.#server = server;
  }

  /** Stops listening and drops every connection, held requests included: the receiver is down. */
  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (!server) return;
    for (const res of this.#held) res.destroy();
    this.#held.clear();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Ids answered with a 2xx, each with how many times. */
  acknowledged(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const w of this.received) {
      if (w.status !== undefined && w.status >= 200 && w.status < 300) counts.set(w.id, (counts.get(w.id) ?? 0) + 1);
    }
    return counts;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    const header = (name: string) => String(req.headers[name] ?? "");
    let verified: unknown;
    try {
      verified = new Webhook(this.secret).verify(body, {
        "webhook-id": header("webhook-id"),
        "webhook-timestamp": header("webhook-timestamp"),
        "webhook-signature": header("webhook-signature"),
      });
    } catch {
      verified = undefined;
    }
    const webhook: ReceivedWebhook = {
      id: header("webhook-id"),
      timestamp: header("webhook-timestamp"),
      signature: header("webhook-signature"),
      verified,
      body,
      status: undefined,
    };
    this.received.push(webhook);
    const attempts = this.received.filter((w) => w.id === webhook.id).length;
    const answer = verified === undefined ? 401 : this.answer(webhook, attempts);
    if (answer === "hold") {
      this.#held.add(res);
      return;
    }
    webhook.status = answer;
    res.writeHead(answer).end();
  }
}
