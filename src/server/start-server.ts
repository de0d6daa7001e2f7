import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Express } from "express";

const CLIENT_ERROR_BODY: Record<number, string> = {
  431: JSON.stringify({ error: "invalid_request", message: "The request headers are too large." }),
  400: JSON.stringify({ error: "invalid_request", message: "The request could not be parsed as HTTP." }),
};

/**
 * An http.Server for the app. Malformed HTTP and oversized headers never reach Express;
 * answer them in the same JSON shape instead of Node's bare default.
 */
export function listen(app: Express, port: number, host: string): Promise<{ server: Server; url: string }> {
  const server = createServer({ maxHeaderSize: 16 * 1024 }, app);
  server.headersTimeout = 20_000;
  server.requestTimeout = 30_000;
  server.on("clientError", (error: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) return socket.destroy();
    const status = error.code === "HPE_HEADER_OVERFLOW" ? 431 : 400;
    const body = CLIENT_ERROR_BODY[status] ?? "";
    const reason = status === 431 ? "Request Header Fields Too Large" : "Bad Request";
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
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
