import { type IncomingMessage, type RequestListener, type Server, type ServerResponse, STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import { type TransportFailure, transportAnswer } from "./http-status.ts";

const hardened = new WeakSet<Server>();

/** How long a connection answered with an error may linger so the client reads the answer. */
const CLOSE_GRACE_MS = 1000;
/** How long the answers to requests pipelined ahead of a malformed one may take before the connection is dropped. */
const PIPELINE_WAIT_MS = 10_000;

function bodyOf(failure: TransportFailure): string {
  const { error, message } = transportAnswer(failure);
  return JSON.stringify({ error, message });
}

/** A complete HTTP/1.1 answer, for a socket the HTTP layer has given up on. */
function rawAnswer(failure: TransportFailure): string {
  const { status } = transportAnswer(failure);
  const body = bodyOf(failure);
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ""}\r\n` +
    "Content-Type: application/json; charset=utf-8\r\n" +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    "Cache-Control: no-store\r\nConnection: close\r\n\r\n" +
    body
  );
}

function answer(res: ServerResponse, failure: TransportFailure): void {
  const body = bodyOf(failure);
  res.writeHead(transportAnswer(failure).status, {
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": Buffer.byteLength(body),
    "Cache-Control": "no-store",
    Connection: "close",
  });
  res.end(body);
}

/** Writes the answer and closes; the socket is destroyed after a grace period if the client lingers. */
function answerAndClose(socket: Duplex, failure: TransportFailure): void {
  socket.end(rawAnswer(failure));
  setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref();
}

/** Ends the connection once what was written has gone out; destroyed after a grace period if the client lingers. */
function closeAfterFlush(socket: Duplex): void {
  socket.end();
  setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref();
}

function failureOf(code: string | undefined): TransportFailure {
  switch (code) {
    case "HPE_HEADER_OVERFLOW":
      return "headers_too_large";
    case "HPE_CHUNK_EXTENSIONS_OVERFLOW":
      return "chunk_extensions_too_large";
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return "timeout";
    default:
      return "malformed";
  }
}

/** RFC 9112 §3.2: HTTP/1.1 needs a Host header, and more than one is a 400 in any version. */
function hasHostProblem(req: IncomingMessage): boolean {
  if (req.headers.host === undefined) return req.httpVersionMajor === 1 && req.httpVersionMinor >= 1;
  let hosts = 0;
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 4 && name.toLowerCase() === "host") hosts++;
  }
  return hosts > 1;
}

/**
 * Makes an `http.Server` (or `https.Server`) answer every failure its HTTP layer handles by
 * itself in the contract's JSON shape, `{"error", "message"}` with the right status, instead
 * of Node's empty bodies:
 *
 * - a request without Host (or with two): 400, where Node sends an empty 400;
 * - an `Expect` other than `100-continue`: 417, where Node sends an empty 417;
 * - a request that does not arrive within `headersTimeout`/`requestTimeout`: 408;
 * - oversized headers: 431; unparsable HTTP: 400; `CONNECT`: 400 (Node drops the connection);
 * - `Expect: 100-continue` gets `100 Continue` only when its answer is next on the connection:
 *   for a pipelined request the body has already been sent (RFC 9110 §10.1.1), and Node
 *   would write the interim answer into the stream behind the earlier response.
 *
 * Call it once the app is attached (`createServer(app)`): request listeners added later are
 * not covered by the Host check. Returns the server.
 *
 * @example
 * const server = hardenHttpServer(http.createServer(app));
 * server.listen(3000);
 */
export function hardenHttpServer<S extends Server>(server: S): S {
  if (hardened.has(server)) return server;
  hardened.add(server);
  // Node answers a missing Host itself with an empty 400; the wrapper below answers in JSON.
  (server as { requireHostHeader?: boolean }).requireHostHeader = false;

  /** Exchanges not yet finished, per connection: a raw answer must not cut into one already begun. */
  const open = new WeakMap<Duplex, Set<{ req: IncomingMessage; res: ServerResponse }>>();
  const track = (req: IncomingMessage, res: ServerResponse) => {
    let set = open.get(req.socket);
    if (!set) open.set(req.socket, (set = new Set()));
    const exchange = { req, res };
    set.add(exchange);
    const done = () => set.delete(exchange);
    res.once("finish", done);
    res.once("close", done);
  };
  /**
   * What to do about a parse failure on `socket`: requests fully received before it are answered
   * first, in order (RFC 9112 §9.3.2), then the failure's answer closes the connection. The failure of
   * a request still arriving (a stalled body) is that request's own answer, unless it has begun.
   */
  const pendingBefore = (socket: Duplex): { begun: ServerResponse[]; earlier: ServerResponse[] } => {
    const exchanges = [...(open.get(socket) ?? [])];
    return {
      begun: exchanges.filter(({ req, res }) => !req.complete && res.headersSent).map(({ res }) => res),
      earlier: exchanges.filter(({ req }) => req.complete).map(({ res }) => res),
    };
  };
  const finished = (res: ServerResponse) =>
    new Promise<void>((resolve) => (res.writableFinished ? resolve() : res.once("close", () => resolve())));

  const listeners = server.listeners("request") as RequestListener[];
  server.removeAllListeners("request");
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    track(req, res);
    if (hasHostProblem(req)) {
      answer(res, "missing_host");
      return;
    }
    for (const listener of listeners) listener.call(server, req, res);
  });

  server.on("checkContinue", (req: IncomingMessage, res: ServerResponse) => {
    // A queued response has no socket yet: its request was pipelined, so its body is already here.
    if (res.socket) res.writeContinue();
    server.emit("request", req, res);
  });
  server.on("checkExpectation", (req: IncomingMessage, res: ServerResponse) => {
    track(req, res);
    answer(res, "expectation_failed");
  });
  server.on("connect", (_req: IncomingMessage, socket: Duplex) => answerAndClose(socket, "connect"));
  server.on("clientError", (error: NodeJS.ErrnoException, socket: Duplex) => {
    // A client that went away leaves nothing to say.
    if (error.code === "ECONNRESET" || !socket.writable) {
      socket.destroy();
      return;
    }
    const { begun, earlier } = pendingBefore(socket);
    const failure = failureOf(error.code);
    if (begun.length === 0 && earlier.length === 0) {
      answerAndClose(socket, failure);
      return;
    }
    // Bounded: a stuck handler cannot hold the connection open.
    const giveUp = setTimeout(() => socket.destroy(), PIPELINE_WAIT_MS);
    giveUp.unref();
    void Promise.all([...earlier, ...begun].map(finished)).then(() => {
      clearTimeout(giveUp);
      if (!socket.writable) socket.destroy();
      // The failing request was already being answered (e.g. a missing Host): that answer is its
      // answer; let it reach the client, then close.
      else if (begun.length > 0) closeAfterFlush(socket);
      else answerAndClose(socket, failure);
    });
  });
  return server;
}
