import { brotliCompressSync, deflateSync, gzipSync } from "node:zlib";
import type { CredentialPool } from "./credentials.ts";
import { jsonBytes } from "./json-text.ts";
import type { BodySpec, FuzzRequest, JsonNode, Ref, TokenRef, Value } from "./request-model.ts";
import { bearerRouteOf, KNOWN_FIELDS, PASSWORD_FIELDS, TOKEN_FIELDS } from "./routes.ts";

/** A value sent in the request that must never come back in an answer or a log line. */
export interface Secret {
  value: string;
  what: string;
}

/** What the checks need to know about the request besides its bytes. */
export interface Facts {
  method: string;
  route: string;
  /** Aimed at a route that needs a bearer token (by template and method). */
  bearerRoute: boolean;
  head: boolean;
  /** Token part of every Authorization header sent. */
  authorizationTokens: string[];
  /** An access token also sent in the query or the body (RFC 6750 §3.1 forbids more than one place). */
  accessTokenElsewhere: boolean;
  /** Values of every cookie carrying the refresh cookie's exact name, over all Cookie headers. */
  refreshCookieValues: string[];
  /** `refresh_token` of the JSON body as the server parses it (last duplicate wins). */
  bodyRefreshToken: string | undefined;
  /** Health requests sent ahead of this one on the same connection. */
  pipelinedHealthChecks: number;
  /** Header block or body over the server's limits: a reset instead of an answer is possible. */
  oversized: boolean;
  /** Genuine tokens of the pool this request carried: their sessions may have changed. */
  genuinePoolTokens: string[];
  /** current_password was the pool account's password, and new_password this string. */
  newPasswordForPool: string | undefined;
}

export interface ConcreteRequest {
  bytes: Buffer;
  facts: Facts;
  secrets: Secret[];
  /** Usernames and user agents sent: the server may rightly show these back. */
  reflected: string[];
}

const BODY_LIMIT_BYTES = 16 * 1024;
const HEADER_LIMIT_BYTES = 16 * 1024;
const KNOWN = new Set(KNOWN_FIELDS);

type Context = "plain" | "password" | "token" | "cookie" | "field-name" | "username" | "user-agent";

/** Turns a symbolic request into bytes, resolving every reference against the pool. */
export async function materialize(request: FuzzRequest, pool: CredentialPool, port: number): Promise<ConcreteRequest> {
  const resolved = new Map<Ref, string>();
  for (const ref of collectRefs(request)) {
    if ("token" in ref) resolved.set(ref, await pool.resolve(ref));
    else if (ref.fixture === "password") resolved.set(ref, pool.password);
    else if (ref.fixture === "username") resolved.set(ref, pool.username);
    else resolved.set(ref, await pool.sessionId());
  }
  const secrets: Secret[] = [];
  const reflected: string[] = [];
  const genuinePoolTokens: string[] = [];
  const value = (v: Value, context: Context): string => {
    const text = typeof v === "string" ? v : (resolved.get(v) ?? "");
    if (typeof v !== "string" && "token" in v) {
      if (pool.issuedAccess.has(text) || pool.issuedRefresh.has(text)) genuinePoolTokens.push(text);
      secrets.push({ value: text, what: describeRef(v) });
    } else if (typeof v !== "string" && v.fixture === "password") {
      secrets.push({ value: text, what: "the account's password" });
    } else if (context === "field-name") {
      secrets.push({ value: text, what: "an unknown field name" });
    } else if (context === "password" || context === "token" || context === "cookie") {
      secrets.push({ value: text, what: `a generated ${context} value` });
    }
    if (context === "username" || context === "user-agent") reflected.push(text);
    return text;
  };

  const own = `127.0.0.1:${port}`;
  const path = renderPath(request, value);
  const query = [
    ...request.query.map(
      ([name, v]) => `${percentEncode(name)}=${percentEncode(value(v, name.includes("token") ? "token" : "plain"))}`,
    ),
    ...(request.rawQuery ? [request.rawQuery] : []),
  ].join("&");
  const target = (request.transport.host === "absolute-uri" ? `http://${own}` : "") + path + (query ? `?${query}` : "");

  const headers: Array<[string, string]> = [];
  const t = request.transport;
  if (t.host === "own" || t.host === "absolute-uri") headers.push(["Host", own]);
  else if (t.host === "empty") headers.push(["Host", ""]);
  else if (t.host === "other") headers.push(["Host", "evil.example"]);
  else if (t.host === "twice") headers.push(["Host", own], ["Host", "evil.example"]);
  headers.push(["Connection", t.keepAlive ? "keep-alive" : "close"]);
  const authorizationTokens: string[] = [];
  for (const a of request.authorization) {
    const token = value(a.value, "token");
    // As a server reads it: CR/LF cannot be sent, surrounding whitespace is not part of the token.
    authorizationTokens.push(token.replace(/[\r\n]/g, "").replace(/^[ \t]+|[ \t]+$/g, ""));
    headers.push(["Authorization", `${a.scheme}${a.separator}${token}`]);
  }
  const refreshCookieValues: string[] = [];
  for (const line of request.cookies) {
    const pairs = line.map((c) => {
      const name =
        c.name === "refresh" ? pool.refreshCookieName : c.name === " refresh" ? ` ${pool.refreshCookieName}` : c.name;
      return `${name}=${value(c.value, "cookie")}`;
    });
    const header = pairs.join("; ");
    headers.push(["Cookie", header]);
    refreshCookieValues.push(...cookieValues(header.replace(/[\r\n]/g, ""), pool.refreshCookieName));
  }
  for (const type of request.contentType) headers.push(["Content-Type", type]);
  if (request.contentEncoding !== null) headers.push(["Content-Encoding", request.contentEncoding]);
  for (const origin of request.origin) headers.push(["Origin", origin === "own" ? `http://${own}` : origin]);
  if (request.secFetchSite !== null) headers.push(["Sec-Fetch-Site", request.secFetchSite]);
  if (request.userAgent !== null) headers.push(["User-Agent", value(request.userAgent, "user-agent")]);
  headers.push(...request.extraHeaders);
  if (request.oversizedHeader > 0) headers.push(["X-Padding", "p".repeat(request.oversizedHeader)]);
  if (t.expect !== null) headers.push(["Expect", t.expect]);

  let body = t.framing === "none" ? Buffer.alloc(0) : bodyBytes(request.body, value);
  const sentBody = t.framing === "none" ? ({ kind: "none" } as const) : request.body;
  if (request.gzipBody && body.length > 0 && request.contentEncoding !== null) {
    const encoding = request.contentEncoding.toLowerCase();
    if (encoding === "gzip") body = gzipSync(body);
    else if (encoding === "deflate") body = deflateSync(body);
    else if (encoding === "br") body = brotliCompressSync(body);
  }
  const { framingHeaders, payload } = frame(body, t.framing);
  headers.push(...framingHeaders);

  const headText = [
    `${request.method} ${target} ${t.version}`,
    ...headers.map(([n, v]) => `${n}: ${headerValue(v)}`),
  ].join("\r\n");
  const head = Buffer.from(`${headText}\r\n\r\n`, "latin1");
  const rootEntries = sentBody.kind === "json" && isObject(sentBody.root) ? sentBody.root.obj : [];
  const lastRefresh = rootEntries.filter(([k]) => k === "refresh_token").at(-1)?.[1];
  const newPassword = rootEntries.filter(([k]) => k === "new_password").at(-1)?.[1];
  const current = rootEntries.filter(([k]) => k === "current_password").at(-1)?.[1];
  const isPoolPassword =
    isStr(current) && typeof current.str !== "string" && "fixture" in current.str && current.str.fixture === "password";

  for (const secret of [...secrets]) {
    const wire = secret.value.replace(/[\r\n]/g, "");
    if (wire !== secret.value) secrets.push({ value: wire, what: secret.what });
  }
  return {
    bytes: Buffer.concat([...(t.pipelined ? [healthRequest(own)] : []), head, payload]),
    secrets,
    reflected,
    facts: {
      method: request.method,
      route: request.route,
      bearerRoute: bearerRouteOf(request.method, request.route) !== undefined,
      head: request.method === "HEAD",
      authorizationTokens,
      accessTokenElsewhere:
        request.query.some(([n]) => n === "access_token") || rootEntries.some(([k]) => k === "access_token"),
      refreshCookieValues,
      bodyRefreshToken: isStr(lastRefresh)
        ? typeof lastRefresh.str === "string"
          ? lastRefresh.str
          : resolved.get(lastRefresh.str)
        : undefined,
      pipelinedHealthChecks: t.pipelined ? 1 : 0,
      oversized: head.length > HEADER_LIMIT_BYTES || body.length > BODY_LIMIT_BYTES,
      genuinePoolTokens,
      newPasswordForPool:
        isPoolPassword && isStr(newPassword)
          ? typeof newPassword.str === "string"
            ? newPassword.str
            : resolved.get(newPassword.str)
          : undefined,
    },
  };
}

/** Values of the cookies named `name` in a Cookie header, read as RFC 6265 §5.4 does (`;` separates, trimmed). */
function cookieValues(header: string, name: string): string[] {
  const values: string[] = [];
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq !== -1 && part.slice(0, eq).trim() === name) values.push(part.slice(eq + 1).trim());
  }
  return values;
}

function healthRequest(host: string): Buffer {
  return Buffer.from(`GET /healthz HTTP/1.1\r\nHost: ${host}\r\nConnection: keep-alive\r\n\r\n`, "latin1");
}

function describeRef(ref: TokenRef): string {
  const mutated = ref.mutations.length > 0 ? `, mutated (${ref.mutations.map((m) => m.op).join(", ")})` : "";
  return `${ref.token} token from ${ref.source}${mutated}`;
}

const isObject = (node: JsonNode): node is { obj: Array<[string, JsonNode]> } =>
  node !== null && typeof node === "object" && "obj" in node;
const isStr = (node: JsonNode | undefined): node is { str: Value } =>
  node !== null && typeof node === "object" && node !== undefined && "str" in node;

/** Every reference in the request, in a fixed order (resolution may log in, so order matters for replay). */
function collectRefs(request: FuzzRequest): Ref[] {
  const refs: Ref[] = [];
  const add = (v: Value) => {
    if (typeof v !== "string") refs.push(v);
  };
  const walk = (node: JsonNode) => {
    if (node === null || typeof node !== "object") return;
    if (Array.isArray(node)) node.forEach(walk);
    else if ("str" in node) add(node.str);
    else if ("obj" in node) for (const [, v] of node.obj) walk(v);
  };
  add(request.pathParam);
  for (const [, v] of request.query) add(v);
  for (const a of request.authorization) add(a.value);
  for (const line of request.cookies) for (const c of line) add(c.value);
  if (request.body.kind === "json") walk(request.body.root);
  return refs;
}

function renderPath(request: FuzzRequest, value: (v: Value, context: Context) => string): string {
  const param = value(request.pathParam, "plain");
  const printable = /^[\x21-\x7e]+$/.test(param) && !/[/?#]/.test(param);
  const path = request.route.replace(":id", printable ? param : percentEncode(param));
  switch (request.pathStyle) {
    case "plain":
      return path;
    case "upper":
      return path.toUpperCase();
    case "trailing-slash":
      return `${path}/`;
    case "double-slash":
      return `/${path}`;
    case "percent-encoded": {
      const i = path.lastIndexOf("/") + 1;
      const c = path[i];
      return c === undefined
        ? `${path}%2F`
        : `${path.slice(0, i)}%${c.charCodeAt(0).toString(16).toUpperCase()}${path.slice(i + 1)}`;
    }
    case "dot-segment":
      return `/x/..${path}`;
    case "suffix":
      return (
        path +
        (/^[\x21-\x7e]*$/.test(request.pathSuffix)
          ? request.pathSuffix.replace(/[?#]/g, "")
          : percentEncode(request.pathSuffix))
      );
  }
}

/** Percent-encodes UTF-8 bytes (a lone surrogate becomes U+FFFD's bytes, as any UTF-8 encoder writes it). */
export function percentEncode(text: string): string {
  let out = "";
  for (const byte of Buffer.from(text, "utf8")) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-._~]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** UTF-8 bytes as a latin1 string (one char per byte). CR and LF would start a new header line: dropped. */
function headerValue(text: string): string {
  return Buffer.from(text.replace(/[\r\n]/g, ""), "utf8").toString("latin1");
}

function bodyBytes(body: BodySpec, value: (v: Value, context: Context) => string): Buffer {
  switch (body.kind) {
    case "none":
      return Buffer.alloc(0);
    case "json": {
      // Each string learns its context from the member it sits in (password field, token field…).
      const texts = new Map<object, string>();
      const walk = (node: JsonNode, context: Context) => {
        if (node === null || typeof node !== "object") return;
        if (Array.isArray(node)) for (const item of node) walk(item, context);
        else if ("str" in node) texts.set(node, value(node.str, context));
        else if ("obj" in node) {
          for (const [key, child] of node.obj) {
            if (!KNOWN.has(key)) value(key, "field-name");
            walk(
              child,
              PASSWORD_FIELDS.has(key)
                ? "password"
                : TOKEN_FIELDS.has(key)
                  ? "token"
                  : key === "username"
                    ? "username"
                    : context,
            );
          }
        }
      };
      walk(body.root, "plain");
      return jsonBytes(body.root, body.style, (_v, node) => texts.get(node) ?? "");
    }
    case "bytes":
      return Buffer.from(body.bytes);
    case "text":
      return Buffer.from(body.text, "utf8");
    case "big": {
      const n = Math.max(0, body.bytes - 20);
      if (body.shape === "string") return Buffer.from(JSON.stringify({ username: "u".repeat(n) }), "utf8");
      if (body.shape === "array") return Buffer.from(`[${"1,".repeat(Math.floor(n / 2))}1]`, "utf8");
      const keys = Array.from({ length: Math.floor(n / 9) }, (_, i) => `"k${i.toString(36).padStart(4, "0")}":1`);
      return Buffer.from(`{${keys.join(",")}}`, "utf8");
    }
    case "deep":
      return Buffer.from(
        body.open === "["
          ? "[".repeat(body.depth) + "]".repeat(body.depth)
          : '{"a":'.repeat(body.depth) + "1" + "}".repeat(body.depth),
        "utf8",
      );
  }
}

function frame(
  body: Buffer,
  framing: FuzzRequest["transport"]["framing"],
): { framingHeaders: Array<[string, string]>; payload: Buffer } {
  const half = Math.ceil(body.length / 2);
  const chunk = (part: Buffer, extension = "") =>
    part.length === 0
      ? []
      : [Buffer.from(`${part.length.toString(16)}${extension}\r\n`, "latin1"), part, Buffer.from("\r\n")];
  switch (framing) {
    case "length":
      return { framingHeaders: [["Content-Length", String(body.length)]], payload: body };
    case "none":
      return { framingHeaders: [], payload: Buffer.alloc(0) };
    case "chunked":
      return {
        framingHeaders: [["Transfer-Encoding", "chunked"]],
        payload: Buffer.concat([
          ...chunk(body.subarray(0, half)),
          ...chunk(body.subarray(half)),
          Buffer.from("0\r\n\r\n"),
        ]),
      };
    case "chunked-extensions":
      return {
        framingHeaders: [["Transfer-Encoding", "chunked"]],
        payload: Buffer.concat([...chunk(body, ";ext=1"), Buffer.from("0\r\nX-Trailer: 1\r\n\r\n")]),
      };
    case "length-and-chunked":
      return {
        framingHeaders: [
          ["Content-Length", String(body.length)],
          ["Transfer-Encoding", "chunked"],
        ],
        payload: Buffer.concat([...chunk(body), Buffer.from("0\r\n\r\n")]),
      };
    case "two-lengths":
      return {
        framingHeaders: [
          ["Content-Length", String(body.length)],
          ["Content-Length", String(body.length + 1)],
        ],
        payload: body,
      };
    case "bad-chunk-size":
      return { framingHeaders: [["Transfer-Encoding", "chunked"]], payload: Buffer.from("zz\r\nabc\r\n0\r\n\r\n") };
  }
}

/** The request as readable text for a failure report: bytes escaped, long runs shortened. */
export function describeBytes(bytes: Buffer, limit = 3000): string {
  const text = bytes
    .toString("latin1")
    .replace(/(.)\1{63,}/gs, (run, c: string) => `${c.repeat(8)}…(${run.length} × ${JSON.stringify(c)})`)
    .replace(/[^\x20-\x7e\r\n]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`)
    .replace(/\r\n/g, "\\r\\n\n");
  return text.length > limit ? `${text.slice(0, limit)}…(${text.length - limit} more)` : text;
}
