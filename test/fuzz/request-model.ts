/**
 * What the fuzzer generates: a symbolic request. Credentials appear as references
 * ("the current access token, with its second segment truncated") and are turned into
 * real strings only when the request is sent (see materialize.ts), so a counterexample
 * stays readable and replays against whatever tokens the server issues on that run.
 */

/** Where an access token comes from before any mutation. */
export type AccessSource =
  /** The live access token of the test's own session. */
  | "pool"
  /** Correctly signed by the server's key, for a real session, expired beyond the clock skew. */
  | "expired"
  /** Correctly signed, exp ten years after iat: longer than any configured lifetime. */
  | "long-lived"
  /** Correctly signed with iat and nbf an hour in the future. */
  | "future-iat"
  /** Same header and claims, signed by a key the server never saw. */
  | "foreign-key"
  /** `alg: none`, empty signature. */
  | "alg-none"
  /** `alg: HS256` keyed with the server's public key (algorithm confusion), in three spellings. */
  | "hs256-public-raw"
  | "hs256-public-jwk"
  | "hs256-public-pem"
  /** A refresh token where an access token belongs. */
  | "refresh-as-access";

/** Where a refresh token comes from before any mutation. */
export type RefreshSource =
  /** The live refresh token of the test's session (delivered as a cookie). */
  | "pool"
  /** The token that `pool` replaced at its last rotation (reuse inside or after the grace window). */
  | "retired"
  /** A refresh token a native client got in the body (token_transport: body). */
  | "body-issued"
  /** An access token where a refresh token belongs. */
  | "access-as-refresh";

/** Where an mfa_token comes from before any mutation. */
export type MfaSource =
  /** A live token of the second login step of an account with TOTP (each use may take one of its tries). */
  | "live"
  /** Shaped like one (ghmfa_ and 43 characters) but never issued. */
  | "unknown";

export type JsonPatch = Record<string, JsonNode | null>;

/** A change to a token string. `at` is a fraction of the length, so it survives any token size. */
export type Mutation =
  | { op: "flip"; at: number; char: string }
  | { op: "truncate"; at: number }
  | { op: "insert"; at: number; text: string }
  | { op: "delete-char"; at: number }
  | { op: "case-flip"; at: number }
  | { op: "drop-segment"; index: number }
  | { op: "duplicate-segment"; index: number }
  | { op: "swap-segments"; a: number; b: number }
  | { op: "pad-segment"; index: number }
  | { op: "standard-base64"; index: number }
  | { op: "edit-header"; patch: JsonPatch }
  | { op: "edit-payload"; patch: JsonPatch }
  | { op: "respace-json"; index: number }
  | { op: "empty-segment"; index: number }
  | { op: "append-segments"; count: number };

export interface TokenRef {
  token: "access" | "refresh" | "mfa";
  source: AccessSource | RefreshSource | MfaSource;
  mutations: Mutation[];
}

/** The password of the test's own account (a secret that must never come back). */
export interface FixturePassword {
  fixture: "password";
}

/** The username of the test's own account (echoing a username is fine). */
export interface FixtureUsername {
  fixture: "username";
}

/** The id of the test's own current session (for DELETE /auth/sessions/:id). */
export interface FixtureSessionId {
  fixture: "session-id";
}

export type Ref = TokenRef | FixturePassword | FixtureUsername | FixtureSessionId;

/** A string, or something that becomes one when the request is sent. */
export type Value = string | Ref;

/**
 * JSON as written on the wire: duplicate keys, numbers beyond double range and strings
 * with lone surrogates are all expressible.
 */
export type JsonNode =
  | null
  | boolean
  | number
  | { num: string }
  | { str: Value }
  | JsonNode[]
  | { obj: Array<[string, JsonNode]> };

export interface JsonStyle {
  /** Prefix a UTF-8 byte-order mark. */
  bom: boolean;
  /** Escape every non-ASCII character as \uXXXX (else raw UTF-8; lone surrogates always escaped). */
  asciiOnly: boolean;
  /** Whitespace between tokens. */
  spaced: boolean;
  /** Extra text after the value (trailing garbage or a second document). */
  trailer: string;
}

export type BodySpec =
  | { kind: "none" }
  | { kind: "json"; root: JsonNode; style: JsonStyle }
  /** Arbitrary bytes (invalid UTF-8 included). */
  | { kind: "bytes"; bytes: number[] }
  | { kind: "text"; text: string }
  /** A JSON body of about `bytes` bytes (around the 16 KiB limit and over it). */
  | { kind: "big"; bytes: number; shape: "string" | "array" | "keys" }
  | { kind: "deep"; depth: number; open: "[" | "{" };

export interface Transport {
  version: string;
  host: "own" | "missing" | "empty" | "other" | "twice" | "absolute-uri";
  /** How the body length is told; "none" sends no body at all. */
  framing:
    | "length"
    | "chunked"
    | "chunked-extensions"
    | "none"
    | "length-and-chunked"
    | "two-lengths"
    | "bad-chunk-size";
  expect: string | null;
  keepAlive: boolean;
  /** Send a health request ahead on the same connection, in the same write (HTTP/1.1 pipelining). */
  pipelined: boolean;
}

export interface AuthorizationSpec {
  scheme: string;
  separator: string;
  value: Value;
}

export interface CookieSpec {
  /** "refresh" = the server's refresh cookie name, whatever it is. */
  name: string;
  value: Value;
}

export interface FuzzRequest {
  method: string;
  /** A route template such as /auth/sessions/:id, or a free path. */
  route: string;
  /** How the path is spelled (case, slashes, encoding). */
  pathStyle: "plain" | "upper" | "trailing-slash" | "double-slash" | "percent-encoded" | "dot-segment" | "suffix";
  pathParam: Value;
  pathSuffix: string;
  query: Array<[string, Value]>;
  /** Raw query text appended as is (malformed escapes and all). */
  rawQuery: string;
  authorization: AuthorizationSpec[];
  /** One entry per Cookie header line. */
  cookies: CookieSpec[][];
  contentType: string[];
  contentEncoding: string | null;
  origin: string[];
  secFetchSite: string | null;
  userAgent: string | null;
  extraHeaders: Array<[string, string]>;
  /** A header line longer than the server's header limit, if > 0 (bytes). */
  oversizedHeader: number;
  body: BodySpec;
  gzipBody: boolean;
  transport: Transport;
}
