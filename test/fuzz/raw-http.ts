import { connect } from "node:net";

/**
 * A tiny HTTP/1.1 client over a raw TCP socket. The fuzz test writes every byte of the
 * request itself (duplicate headers, missing Host, odd methods, bytes fetch() refuses) and
 * reads the answer with this parser, so what is checked is what went over the wire.
 */

export interface RawResponse {
  status: number;
  reason: string;
  /** Header lines in order, names lower-cased, values as latin1 (one char per byte received). */
  headers: Array<[string, string]>;
  body: Buffer;
  /** Status codes of interim (1xx) answers received before this one. */
  interim: number[];
}

export interface RawOutcome {
  response: RawResponse | undefined;
  /** Why no complete response arrived (connection reset, closed early, timeout), if it did not. */
  failure: string | undefined;
}

export interface RawSendOptions {
  /** A HEAD request's answer has headers only. */
  head?: boolean;
  timeoutMs?: number;
  /**
   * How many health requests (GET /healthz) were pipelined ahead of the one under test on
   * the same connection; each must get a clean `200 {"status":"ok"}` before its answer.
   */
  pipelinedHealthChecks?: number;
}

const HEALTHY = '{"status":"ok"}';

/** Sends `bytes` on a new connection and reads the first final (non-1xx) response to the request under test. */
export function sendRaw(port: number, bytes: Buffer, options: RawSendOptions = {}): Promise<RawOutcome> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    let received = Buffer.alloc(0);
    let settled = false;
    const finish = (outcome: RawOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const fail = (failure: string) => finish({ response: undefined, failure });
    const timer = setTimeout(() => fail(`no complete answer within ${timeoutMs} ms`), timeoutMs);
    const evaluate = (closed: boolean, error?: string) => {
      const early = error ?? `connection closed after ${received.length} bytes, before a complete answer`;
      let offset = 0;
      for (let i = 0; i < (options.pipelinedHealthChecks ?? 0); i++) {
        const ahead = parseResponse(received, false, closed, offset);
        if (ahead.kind === "partial")
          return closed ? fail(`${early} (to the health request pipelined ahead)`) : undefined;
        if (ahead.kind === "invalid")
          return fail(`unparseable answer to the health request pipelined ahead: ${ahead.reason}`);
        const { status, interim, body } = ahead.response;
        if (status !== 200 || interim.length > 0 || body.toString("utf8") !== HEALTHY) {
          return fail(
            `the health request pipelined ahead got ${interim.join("+")} ${status} ${JSON.stringify(body.toString())}`,
          );
        }
        offset = ahead.end;
      }
      const parsed = parseResponse(received, options.head === true, closed, offset);
      if (parsed.kind === "complete") finish({ response: parsed.response, failure: undefined });
      else if (parsed.kind === "invalid") fail(`unparseable answer: ${parsed.reason}`);
      else if (closed) fail(early);
    };
    socket.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      evaluate(false);
    });
    socket.on("end", () => evaluate(true));
    socket.on("close", () => evaluate(true));
    socket.on("error", (error: NodeJS.ErrnoException) => {
      evaluate(true, `socket error ${error.code ?? error.message} after ${received.length} bytes`);
    });
    socket.write(bytes, () => undefined);
  });
}

type Parse =
  | { kind: "complete"; response: RawResponse; end: number }
  | { kind: "partial" }
  | { kind: "invalid"; reason: string };

/** Parses the first final response in `data`; `closed` means no more bytes will come. */
export function parseResponse(data: Buffer, head: boolean, closed: boolean, start = 0): Parse {
  const interim: number[] = [];
  let offset = start;
  for (;;) {
    const end = data.indexOf("\r\n\r\n", offset, "latin1");
    if (end === -1) return { kind: "partial" };
    const lines = data.toString("latin1", offset, end).split("\r\n");
    const statusLine = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(lines[0] ?? "");
    if (!statusLine) return { kind: "invalid", reason: `status line ${JSON.stringify(lines[0])}` };
    const status = Number(statusLine[1]);
    const headers: Array<[string, string]> = [];
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(":");
      if (colon <= 0) return { kind: "invalid", reason: `header line ${JSON.stringify(line)}` };
      headers.push([line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()]);
    }
    const bodyStart = end + 4;
    if (status >= 100 && status < 200 && status !== 101) {
      interim.push(status);
      offset = bodyStart;
      continue;
    }
    const response = (body: Buffer, end: number): Parse => ({
      kind: "complete",
      response: { status, reason: statusLine[2] ?? "", headers, body, interim },
      end,
    });
    if (head || status === 204 || status === 304) return response(Buffer.alloc(0), bodyStart);
    const te = headers.find(([name]) => name === "transfer-encoding")?.[1];
    if (te !== undefined && /chunked/i.test(te)) {
      const chunked = readChunked(data, bodyStart);
      if (chunked === "partial") return { kind: "partial" };
      if (chunked === "invalid") return { kind: "invalid", reason: "bad chunked body" };
      return response(chunked.body, chunked.end);
    }
    const lengths = headers.filter(([name]) => name === "content-length").map(([, value]) => value);
    if (lengths.length > 0) {
      const length = Number(lengths[0]);
      if (!Number.isSafeInteger(length) || length < 0 || lengths.some((value) => value !== lengths[0])) {
        return { kind: "invalid", reason: `content-length ${JSON.stringify(lengths)}` };
      }
      if (data.length - bodyStart < length) return { kind: "partial" };
      return response(data.subarray(bodyStart, bodyStart + length), bodyStart + length);
    }
    return closed ? response(data.subarray(bodyStart), data.length) : { kind: "partial" };
  }
}

function readChunked(data: Buffer, start: number): { body: Buffer; end: number } | "partial" | "invalid" {
  const parts: Buffer[] = [];
  let offset = start;
  for (;;) {
    const lineEnd = data.indexOf("\r\n", offset, "latin1");
    if (lineEnd === -1) return "partial";
    const size = Number.parseInt(data.toString("latin1", offset, lineEnd).split(";")[0] ?? "", 16);
    if (!Number.isSafeInteger(size) || size < 0) return "invalid";
    if (size === 0) {
      // The last chunk is followed by optional trailer lines and an empty line.
      if (data.toString("latin1", lineEnd + 2, lineEnd + 4) === "\r\n")
        return { body: Buffer.concat(parts), end: lineEnd + 4 };
      const trailerEnd = data.indexOf("\r\n\r\n", lineEnd, "latin1");
      return trailerEnd === -1 ? "partial" : { body: Buffer.concat(parts), end: trailerEnd + 4 };
    }
    if (data.length < lineEnd + 2 + size + 2) return "partial";
    parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    offset = lineEnd + 2 + size + 2;
  }
}

/** Header value by lower-case name: every occurrence. */
export function headerValues(response: RawResponse, name: string): string[] {
  return response.headers.filter(([n]) => n === name).map(([, value]) => value);
}

export interface SimpleRequest {
  method: string;
  path: string;
  headers?: Array<[string, string]>;
  json?: unknown;
}

/** A well-formed request for the test's own bookkeeping (log in, refresh, health). */
export async function simpleRequest(port: number, request: SimpleRequest): Promise<RawResponse & { json: unknown }> {
  const body = request.json === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(request.json), "utf8");
  const head = [
    `${request.method} ${request.path} HTTP/1.1`,
    `Host: 127.0.0.1:${port}`,
    "Connection: close",
    ...(request.json === undefined ? [] : ["Content-Type: application/json"]),
    `Content-Length: ${body.length}`,
    ...(request.headers ?? []).map(([name, value]) => `${name}: ${value}`),
  ];
  const outcome = await sendRaw(port, Buffer.concat([Buffer.from(`${head.join("\r\n")}\r\n\r\n`, "latin1"), body]));
  if (!outcome.response) throw new Error(`${request.method} ${request.path}: ${outcome.failure}`);
  const text = outcome.response.body.toString("utf8");
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { ...outcome.response, json };
}
