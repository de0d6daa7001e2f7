import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Express } from "express";
import { hardenHttpServer } from "../express/http-server.ts";

export interface ListenOptions {
  /** Time allowed for a request's headers (default 20 s); then 408. */
  headersTimeoutMs?: number;
  /** Time allowed for a whole request (default 30 s); then 408. */
  requestTimeoutMs?: number;
  /** How often the two timeouts above are checked (default 30 s, Node's). */
  connectionsCheckingIntervalMs?: number;
}

/**
 * An http.Server for the app. Malformed HTTP, oversized headers, stalled requests and odd
 * `Expect` headers never reach Express; they are answered in the same JSON shape instead of
 * Node's bare defaults (see hardenHttpServer).
 */
export function listen(
  app: Express,
  port: number,
  host: string,
  options: ListenOptions = {},
): Promise<{ server: Server; url: string }> {
  const server = hardenHttpServer(
    createServer(
      { maxHeaderSize: 16 * 1024, connectionsCheckingInterval: options.connectionsCheckingIntervalMs ?? 30_000 },
      app,
    ),
  );
  server.headersTimeout = options.headersTimeoutMs ?? 20_000;
  server.requestTimeout = options.requestTimeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      const address = server.address() as AddressInfo;
      const shownHost = host.includes(":") ? `[${host}]` : host;
      resolve({ server, url: `http://${shownHost}:${address.port}` });
    });
  });
}
