import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import express from "express";
import { createGatehouse, type Gatehouse, hardenHttpServer } from "../../src/index.ts";
import { createLogger } from "../../src/logging/logger.ts";
import { createServerApp } from "../../src/server/app.ts";
import { listen } from "../../src/server/start-server.ts";
import { STRONG_PASSWORD } from "../helpers/http.ts";

/**
 * What Node's HTTP layer answers by itself, before Express runs, must still be the
 * contract's JSON with the right status: missing Host, unknown Expect, a stalled request,
 * oversized headers, garbage, CONNECT — and `100 Continue` only where it belongs.
 * Raw TCP on 127.0.0.1, because fetch and http.request cannot send most of these.
 */
interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Splits a byte stream into HTTP/1.1 responses (Content-Length bodies; 1xx have none). */
function parseResponses(raw: Buffer): RawResponse[] {
  const responses: RawResponse[] = [];
  let rest = raw;
  while (rest.length > 0) {
    const end = rest.indexOf("\r\n\r\n");
    if (end === -1) throw new Error(`incomplete response head: ${JSON.stringify(rest.toString("latin1"))}`);
    const [statusLine = "", ...lines] = rest.subarray(0, end).toString("latin1").split("\r\n");
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1]);
    assert.ok(status >= 100, `not a status line: ${JSON.stringify(statusLine)}`);
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(":");
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    assert.equal(headers["transfer-encoding"], undefined, "a JSON answer has a Content-Length");
    const length = status < 200 ? 0 : Number(headers["content-length"] ?? 0);
    const body = rest.subarray(end + 4, end + 4 + length);
    assert.equal(body.length, length, "the body is cut short");
    responses.push({ status, headers, body: body.toString("utf8") });
    rest = rest.subarray(end + 4 + length);
  }
  return responses;
}

/**
 * Writes `chunks` to a fresh connection (a function chunk runs with what arrived so far and
 * returns what to write next), then collects everything until the server closes or `idleMs`
 * pass without data.
 */
type Chunk = string | ((received: string) => Promise<string>);

function exchange(port: number, chunks: Chunk[], idleMs = 1500): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    const received: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(Buffer.concat(received));
    };
    const idle = () => {
      clearTimeout(timer);
      timer = setTimeout(done, idleMs);
    };
    socket.on("data", (chunk) => {
      received.push(chunk);
      idle();
    });
    socket.on("close", done);
    socket.on("error", (error: NodeJS.ErrnoException) => (error.code === "ECONNRESET" ? done() : reject(error)));
    socket.on("connect", async () => {
      for (const chunk of chunks) {
        socket.write(typeof chunk === "string" ? chunk : await chunk(Buffer.concat(received).toString("latin1")));
      }
      idle();
    });
  });
}

function assertJsonError(response: RawResponse | undefined, status: number, code: string): void {
  assert.ok(response, "no response at all");
  assert.equal(response.status, status, JSON.stringify(response));
  assert.match(response.headers["content-type"] ?? "", /^application\/json/, JSON.stringify(response));
  const body = JSON.parse(response.body) as Record<string, unknown>;
  assert.deepEqual(Object.keys(body).sort(), ["error", "message"]);
  assert.equal(body["error"], code);
  assert.equal(typeof body["message"], "string");
}

const loginBody = JSON.stringify({ username: "nobody", password: STRONG_PASSWORD });
const post = (path: string, body: string, extraHeaders = "") =>
  `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
  `Content-Length: ${body.length}\r\n${extraHeaders}\r\n`;
const openGatehouse = (path: string) =>
  createGatehouse({ database: `sqlite:${path}`, logger: createLogger({ level: "silent" }) });
const bigHeaders = (path: string) => `GET ${path} HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`;

describe("Node's own answers in the contract's JSON shape (standalone server)", () => {
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-raw-"));
  let auth: Gatehouse;
  let server: Server;
  let port: number;
  before(async () => {
    auth = await openGatehouse(join(dir, "raw.db"));
    ({ server } = await listen(createServerApp(auth), 0, "127.0.0.1", {
      headersTimeoutMs: 800,
      requestTimeoutMs: 1200,
      connectionsCheckingIntervalMs: 200,
    }));
    port = (server.address() as { port: number }).port;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await auth.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("HTTP/1.1 without Host, or with two: 400 invalid_request", async () => {
    assertJsonError(parseResponses(await exchange(port, ["GET /healthz HTTP/1.1\r\n\r\n"]))[0], 400, "invalid_request");
    const two = await exchange(port, ["GET /healthz HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n"]);
    assertJsonError(parseResponses(two)[0], 400, "invalid_request");
    const http10 = parseResponses(await exchange(port, ["GET /healthz HTTP/1.0\r\n\r\n"]));
    assert.equal(http10[0]?.status, 200, "HTTP/1.0 needs no Host");
  });

  it("an Expect other than 100-continue: 417 in JSON", async () => {
    const teapot = `${post("/auth/login", loginBody, "Expect: teapot\r\n")}${loginBody}`;
    const res = parseResponses(await exchange(port, [teapot]));
    assertJsonError(res[0], 417, "invalid_request");
  });

  it("a request whose headers never finish: 408 in JSON", async () => {
    const res = parseResponses(await exchange(port, ["GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: "], 4000));
    assertJsonError(res[0], 408, "invalid_request");
  });

  it("a body that never finishes: 408 in JSON", async () => {
    const res = parseResponses(await exchange(port, [post("/auth/login", loginBody), loginBody.slice(0, 5)], 4000));
    assertJsonError(res[0], 408, "invalid_request");
  });

  it("oversized headers, garbage, smuggling-shaped framing and CONNECT: JSON 4xx", async () => {
    const big = parseResponses(await exchange(port, [bigHeaders("/healthz")]));
    assertJsonError(big[0], 431, "invalid_request");
    assertJsonError(parseResponses(await exchange(port, ["\x16\x03\x01garbage\r\n\r\n"]))[0], 400, "invalid_request");
    const framing =
      "POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
    assertJsonError(parseResponses(await exchange(port, [framing]))[0], 400, "invalid_request");
    const tunnel = await exchange(port, ["CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"]);
    assertJsonError(parseResponses(tunnel)[0], 400, "invalid_request");
  });

  it("Expect: 100-continue alone gets 100 Continue, then the answer", async () => {
    const raw = await exchange(port, [
      post("/auth/login", loginBody, "Expect: 100-continue\r\n"),
      async (received) => {
        for (let i = 0; i < 50 && !received.includes("100 Continue"); i++) await new Promise((r) => setTimeout(r, 20));
        return loginBody;
      },
    ]);
    const [interim, final] = parseResponses(raw);
    assert.equal(interim?.status, 100);
    assertJsonError(final, 401, "invalid_credentials");
  });

  it("a pipelined request with Expect: 100-continue gets no 100 Continue beside the earlier answer", async () => {
    const first = `${post("/auth/login", loginBody)}${loginBody}`;
    const second = `${post("/auth/login", loginBody, "Expect: 100-continue\r\n")}${loginBody}`;
    const responses = parseResponses(await exchange(port, [first + second], 3000));
    assert.deepEqual(
      responses.map((r) => r.status),
      [401, 401],
      "the body was already sent, so 100 Continue would only be noise in the stream",
    );
    for (const response of responses) assertJsonError(response, 401, "invalid_credentials");
  });
  it("a malformed request pipelined behind a valid one does not take the valid one's answer", async () => {
    const valid = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    for (const malformed of [
      "GET /auth/me HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n",
      `${post("/auth/login", loginBody).replace(/Content-Length: \d+\r\n/, "Transfer-Encoding: chunked\r\n")}zz\r\n`,
    ]) {
      const responses = parseResponses(await exchange(port, [valid + malformed], 3000));
      assert.equal(responses.length, 2, "both requests are answered, in order");
      assert.equal(responses[0]?.status, 200, "the health check gets its own answer");
      assert.deepEqual(JSON.parse(responses[0]!.body), { status: "ok" });
      assertJsonError(responses[1], 400, "invalid_request");
    }
  });

  it("a request without Host and with a broken chunked body, pipelined behind a valid one: both answers arrive", async () => {
    const valid = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    const hostless =
      "POST /auth/logout-all HTTP/1.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n";
    const responses = parseResponses(await exchange(port, [valid + hostless], 3000));
    assert.deepEqual(
      responses.map((r) => r.status),
      [200, 400],
      "the health check's answer, then the missing Host's",
    );
    assertJsonError(responses[1], 400, "invalid_request");
  });

  it("a directory redirect of the static files does not copy the query string into Location", async () => {
    const responses = parseResponses(
      await exchange(port, ["GET /%2F?access_token=SECRET-TOKEN-123 HTTP/1.1\r\nHost: x\r\n\r\n"]),
    );
    const head = JSON.stringify(responses[0]?.headers ?? {});
    assert.ok(!head.includes("SECRET-TOKEN-123"), `the query came back: ${head}`);
  });
});

describe("hardenHttpServer() for an app's own http.Server", () => {
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-raw-lib-"));
  let auth: Gatehouse;
  let server: Server;
  let port: number;
  before(async () => {
    auth = await openGatehouse(join(dir, "lib.db"));
    const app = express();
    app.use("/auth", auth.router());
    server = hardenHttpServer(createServer(app));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as { port: number }).port;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await auth.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("answers Node-level failures in JSON, and still serves the app", async () => {
    assertJsonError(parseResponses(await exchange(port, ["GET /auth/me HTTP/1.1\r\n\r\n"]))[0], 400, "invalid_request");
    const expect = await exchange(port, [`${post("/auth/login", loginBody, "Expect: teapot\r\n")}${loginBody}`]);
    assertJsonError(parseResponses(expect)[0], 417, "invalid_request");
    const big = await exchange(port, [bigHeaders("/auth/me")]);
    assertJsonError(parseResponses(big)[0], 431, "invalid_request");
    const served = parseResponses(await exchange(port, ["GET /auth/me HTTP/1.1\r\nHost: x\r\n\r\n"]));
    assertJsonError(served[0], 401, "invalid_token");
  });
});
