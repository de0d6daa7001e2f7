import fc from "fast-check";
import type {
  AccessSource,
  AuthorizationSpec,
  BodySpec,
  CookieSpec,
  FuzzRequest,
  JsonNode,
  JsonPatch,
  JsonStyle,
  MfaSource,
  Mutation,
  RefreshSource,
  TokenRef,
  Transport,
  Value,
} from "./request-model.ts";
import { KNOWN_FIELDS, PASSWORD_FIELDS, ROUTES, type RouteSpec, TOKEN_FIELDS } from "./routes.ts";

/**
 * Generators for the HTTP fuzz test. Weights keep most requests close to real ones (the
 * right route, method and content type, mostly the right fields) so they get past the
 * first check and reach deeper code; the rest is hostile at every level.
 */

/** Characters that break naive code: controls, NUL, separators, invisible and look-alike letters, lone surrogates. */
const NASTY_CHARS = [
  // Controls, separators, invisible and bidi characters, the replacement character, a noncharacter.
  ...Array.from("\u0000\u0001\u0008\u001b\u001f\u007f\u0085\u00a0\u00ad"),
  ...Array.from("\u2028\u2029\ufeff\u200b\u200d\u202e\u2066\ufffd\uffff"),
  // Lone surrogates, one per entry (two in one string would pair up).
  "\ud800",
  "\udbff",
  "\udc00",
  "\udfff",
  // Combining mark, NFKC-folding and case-folding letters, astral characters.
  ...Array.from("\u0301ｕßİıﬁΩÅ😀𝔘\u{10ffff}"),
  // Syntax of JSON, URLs, cookies, headers and paths.
  ...Array.from("\"\\'`<>&%/;,=\r\n\t {}[]$*?#+"),
  "%00",
  "..",
];

const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((unit) => String.fromCharCode(unit));

const fuzzChar = fc.oneof(
  { weight: 8, arbitrary: fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 1 }) },
  { weight: 3, arbitrary: fc.constantFrom(...NASTY_CHARS) },
  { weight: 2, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: fc.string({ unit: "grapheme", minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: loneSurrogate },
);

/** Any text, up to `maxLength` characters, hostile characters included. */
export const fuzzText = (maxLength = 40, minLength = 0) =>
  fc.array(fuzzChar, { minLength, maxLength }).map((chars) => chars.join(""));

/** Header text: mostly printable (non-ASCII included, sent as UTF-8), sometimes anything. */
const headerText = (maxLength: number) =>
  fc.oneof(
    { weight: 6, arbitrary: fc.string({ unit: "grapheme", maxLength }) },
    { weight: 1, arbitrary: fuzzText(maxLength) },
  );

/** Text with a NUL somewhere: valid JSON, valid JavaScript, but no PostgreSQL text column takes it. */
const withNul = (maxLength: number) =>
  fc.tuple(fuzzText(maxLength), fuzzText(maxLength)).map(([a, b]) => `${a}\u0000${b}`);

/** Text a person might type: letters, digits, a little punctuation. */
const plainText = (minLength: number, maxLength: number) => fc.string({ unit: "grapheme-ascii", minLength, maxLength });

const hugeNumbers = fc.constantFrom(
  "1e400",
  "-1e400",
  "1e-400",
  "123456789012345678901234567890",
  "-0",
  "0.0000000000000000000000001",
  "9007199254740993",
  "1E+308",
  "2e308",
  "0e0",
  "1.7976931348623157e309",
  "100000000000000000000000000000000000000000000",
);

/** A JSON value of any type; `depth` bounds nesting. */
export const jsonJunk: fc.Arbitrary<JsonNode> = fc.letrec<{ node: JsonNode }>((tie) => ({
  node: fc.oneof(
    { maxDepth: 3, depthSize: "small" },
    fc.constant(null),
    fc.boolean(),
    fc.double(),
    fc.integer(),
    hugeNumbers.map((num) => ({ num })),
    fuzzText(30).map((str) => ({ str })),
    fc.array(tie("node"), { maxLength: 4 }),
    fc.array(fc.tuple(fuzzText(12), tie("node")), { maxLength: 4 }).map((obj) => ({ obj })),
  ),
})).node;

const tokenMutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    op: fc.constant("flip" as const),
    at: fc.double({ min: 0, max: 1, noNaN: true }),
    char: fc.constantFrom("A", "_", "-", "+", "/", "=", " ", ".", "\u0000", "é", "0"),
  }),
  fc.record({ op: fc.constant("truncate" as const), at: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc.record({
    op: fc.constant("insert" as const),
    at: fc.double({ min: 0, max: 1, noNaN: true }),
    text: fc.oneof(fuzzText(6, 1), fc.constantFrom("=", "==", ".", " ", "%2E", "\t")),
  }),
  fc.record({ op: fc.constant("delete-char" as const), at: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc.record({ op: fc.constant("case-flip" as const), at: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc.record({ op: fc.constant("drop-segment" as const), index: fc.nat(2) }),
  fc.record({ op: fc.constant("duplicate-segment" as const), index: fc.nat(2) }),
  fc.record({ op: fc.constant("swap-segments" as const), a: fc.nat(2), b: fc.nat(2) }),
  fc.record({ op: fc.constant("pad-segment" as const), index: fc.nat(2) }),
  fc.record({ op: fc.constant("standard-base64" as const), index: fc.nat(2) }),
  fc.record({ op: fc.constant("edit-header" as const), patch: headerPatch() }),
  fc.record({ op: fc.constant("edit-payload" as const), patch: payloadPatch() }),
  fc.record({ op: fc.constant("respace-json" as const), index: fc.nat(1) }),
  fc.record({ op: fc.constant("empty-segment" as const), index: fc.nat(2) }),
  fc.record({ op: fc.constant("append-segments" as const), count: fc.constantFrom(1, 2, 3) }),
);

/** Header edits an attacker tries: other algorithms, kid tricks, key-fetching headers, crit. */
function headerPatch(): fc.Arbitrary<JsonPatch> {
  const str = (values: string[]) => fc.constantFrom(...values).map((v): JsonNode => ({ str: v }));
  return fc.dictionary(
    fc.constantFrom("alg", "kid", "typ", "crit", "jku", "x5u", "jwk", "x5c", "b64", "zip", "enc", "cty"),
    fc.oneof(
      {
        weight: 3,
        arbitrary: str([
          "none",
          "None",
          "NONE",
          "HS256",
          "HS512",
          "RS256",
          "ES256",
          "EdDSA",
          "ES384",
          "PS256",
          "Ed25519",
          "",
        ]),
      },
      {
        weight: 2,
        arbitrary: str([
          "../../etc/passwd",
          "' OR 1=1 --",
          "at+jwt",
          "JWT",
          "application/at+jwt",
          "http://127.0.0.1:1/jwks",
        ]),
      },
      { weight: 1, arbitrary: fc.constant<JsonNode | null>(null) },
      { weight: 2, arbitrary: jsonJunk },
    ),
    { maxKeys: 3 },
  );
}

/** Claim edits: expiry far away or malformed, another subject or session, wrong issuer or audience. */
function payloadPatch(): fc.Arbitrary<JsonPatch> {
  return fc.dictionary(
    fc.constantFrom("exp", "iat", "nbf", "sub", "sid", "iss", "aud", "jti", "scope", "roles", "__proto__"),
    fc.oneof(
      {
        weight: 3,
        arbitrary: fc.constantFrom<JsonNode>(
          4102444800,
          0,
          -1,
          1e308,
          { num: "1e400" },
          { num: "99999999999999999999" },
          { str: "4102444800" },
        ),
      },
      { weight: 1, arbitrary: fc.constant<JsonNode | null>(null) },
      { weight: 2, arbitrary: jsonJunk },
    ),
    { maxKeys: 3 },
  );
}

const accessSource = fc.oneof(
  { weight: 6, arbitrary: fc.constant<AccessSource>("pool") },
  {
    weight: 4,
    arbitrary: fc.constantFrom<AccessSource>(
      "expired",
      "long-lived",
      "future-iat",
      "foreign-key",
      "alg-none",
      "hs256-public-raw",
      "hs256-public-jwk",
      "hs256-public-pem",
      "refresh-as-access",
    ),
  },
);
const refreshSource = fc.oneof(
  { weight: 6, arbitrary: fc.constant<RefreshSource>("pool") },
  { weight: 3, arbitrary: fc.constantFrom<RefreshSource>("retired", "body-issued", "access-as-refresh") },
);
const mutations = fc.oneof(
  { weight: 2, arbitrary: fc.constant<Mutation[]>([]) },
  { weight: 3, arbitrary: fc.array(tokenMutation, { minLength: 1, maxLength: 3 }) },
);

export const accessTokenRef: fc.Arbitrary<TokenRef> = fc.record({
  token: fc.constant("access" as const),
  source: accessSource,
  mutations,
});
export const refreshTokenRef: fc.Arbitrary<TokenRef> = fc.record({
  token: fc.constant("refresh" as const),
  source: refreshSource,
  mutations,
});
export const mfaTokenRef: fc.Arbitrary<TokenRef> = fc.record({
  token: fc.constant("mfa" as const),
  source: fc.constantFrom<MfaSource>("live", "live", "unknown"),
  mutations,
});

/**
 * A WebAuthn response shaped as @simplewebauthn/browser makes one, with a made-up challenge,
 * credential and signature: it passes the shape checks and reaches verification.
 */
const webauthnResponse: fc.Arbitrary<JsonNode> = fc
  .record({
    kind: fc.constantFrom("webauthn.get", "webauthn.create", "webauthn.other"),
    challenge: fc.string({
      unit: fc.constantFrom(..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
      maxLength: 64,
    }),
    origin: fc.constantFrom("http://localhost:3000", "https://evil.example", ""),
    id: fc.string({
      unit: fc.constantFrom(..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
      maxLength: 40,
    }),
    blob: fc.uint8Array({ maxLength: 80 }),
    withAttestation: fc.boolean(),
  })
  .map(({ kind, challenge, origin, id, blob, withAttestation }): JsonNode => {
    const b64 = (bytes: Uint8Array | string) => ({ str: Buffer.from(bytes).toString("base64url") });
    const clientData = b64(JSON.stringify({ type: kind, challenge, origin }));
    const inner: Array<[string, JsonNode]> = withAttestation
      ? [
          ["clientDataJSON", clientData],
          ["attestationObject", b64(blob)],
        ]
      : [
          ["clientDataJSON", clientData],
          ["authenticatorData", b64(blob)],
          ["signature", b64(blob.slice(0, 40))],
        ];
    return {
      obj: [
        ["id", { str: id }],
        ["rawId", { str: id }],
        ["type", { str: "public-key" }],
        ["response", { obj: inner }],
        ["clientExtensionResults", { obj: [] }],
      ],
    };
  });

/** A made-up token: random text shaped a little like the real thing, or not at all. */
const literalToken = fc.oneof(
  fuzzText(60, 1),
  fc.tuple(plainText(1, 40), plainText(1, 80), plainText(0, 60)).map(([a, b, c]) => `${a}.${b}.${c}`),
  fc.string({
    unit: fc.constantFrom(..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
    minLength: 8,
    maxLength: 90,
  }),
  fc.integer({ min: 8193, max: 12_000 }).map((n) => "A".repeat(n)),
);

const tokenValue = (kind: "access" | "refresh" | "any"): fc.Arbitrary<Value> =>
  fc.oneof(
    { weight: 5, arbitrary: kind === "refresh" ? refreshTokenRef : accessTokenRef },
    { weight: kind === "any" ? 3 : 1, arbitrary: kind === "refresh" ? accessTokenRef : refreshTokenRef },
    { weight: 2, arbitrary: literalToken },
  );

const strongPassword = fc.string({
  unit: fc.constantFrom(..."abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789-_!"),
  minLength: 16,
  maxLength: 40,
});

const usernameValue: fc.Arbitrary<JsonNode> = fc.oneof(
  { weight: 4, arbitrary: fc.constant<JsonNode>({ str: { fixture: "username" } }) },
  {
    weight: 3,
    arbitrary: fc.tuple(plainText(1, 12), fc.nat(9999)).map(([name, n]): JsonNode => ({ str: `${name}${n}` })),
  },
  { weight: 3, arbitrary: fuzzText(40).map((str): JsonNode => ({ str })) },
  { weight: 1, arbitrary: withNul(10).map((str): JsonNode => ({ str })) },
  { weight: 1, arbitrary: fc.integer({ min: 257, max: 400 }).map((n): JsonNode => ({ str: "u".repeat(n) })) },
  { weight: 2, arbitrary: jsonJunk },
);

const passwordValue: fc.Arbitrary<JsonNode> = fc.oneof(
  { weight: 4, arbitrary: fc.constant<JsonNode>({ str: { fixture: "password" } }) },
  { weight: 3, arbitrary: strongPassword.map((str): JsonNode => ({ str })) },
  { weight: 3, arbitrary: fuzzText(60).map((str): JsonNode => ({ str })) },
  { weight: 1, arbitrary: withNul(20).map((str): JsonNode => ({ str })) },
  { weight: 1, arbitrary: fc.constantFrom(4096, 4097, 20_000).map((n): JsonNode => ({ str: "p".repeat(n) })) },
  { weight: 2, arbitrary: jsonJunk },
);

function fieldValue(field: string): fc.Arbitrary<JsonNode> {
  if (field === "username") return usernameValue;
  if (PASSWORD_FIELDS.has(field)) return passwordValue;
  if (field === "token_transport") {
    return fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom<JsonNode>({ str: "cookie" }, { str: "body" }) },
      { weight: 1, arbitrary: jsonJunk },
    );
  }
  if (field === "email") {
    return fc.oneof(
      fc.constantFrom<JsonNode>(
        { str: "someone@example.com" },
        { str: " Someone@Example.COM " },
        { str: "a@b" },
        { str: `${"x".repeat(250)}@e.io` },
      ),
      jsonJunk,
    );
  }
  if (field === "mfa_token") {
    return fc.oneof(
      { weight: 4, arbitrary: mfaTokenRef.map((str): JsonNode => ({ str })) },
      { weight: 1, arbitrary: tokenValue("any").map((str): JsonNode => ({ str })) },
      { weight: 1, arbitrary: jsonJunk },
    );
  }
  if (field === "response")
    return fc.oneof({ weight: 2, arbitrary: webauthnResponse }, { weight: 1, arbitrary: jsonJunk });
  if (field === "code" || field === "recovery_code")
    return fc.oneof(
      fc.stringMatching(/^\d{6}$/).map((str): JsonNode => ({ str })),
      jsonJunk,
    );
  if (TOKEN_FIELDS.has(field)) {
    const kind = field === "refresh_token" ? "refresh" : field === "access_token" ? "access" : "any";
    return fc.oneof(
      { weight: 4, arbitrary: tokenValue(kind).map((str): JsonNode => ({ str })) },
      { weight: 1, arbitrary: jsonJunk },
    );
  }
  return jsonJunk;
}

/** Unknown field names: a secret-looking one must never come back in an answer. */
const unknownFieldName = fc.oneof(
  fuzzText(24, 1),
  fc.constantFrom("__proto__", "constructor", "prototype", "toString", "hasOwnProperty", ""),
  fc.string({ unit: fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz0123456789_"), minLength: 8, maxLength: 30 }),
  fc.integer({ min: 2000, max: 15_000 }).map((n) => "k".repeat(n)),
);

/** The object a route expects: most of its fields, sometimes others, sometimes unknown ones. */
function routeBody(spec: RouteSpec): fc.Arbitrary<JsonNode> {
  const member = (field: string) => fieldValue(field).map((value): [string, JsonNode] => [field, value]);
  // Needed fields are left out one time in twelve; optional ones come one time in three.
  const own = [
    ...spec.fields.map((field) => fc.option(member(field), { freq: 12 })),
    ...spec.optional.map((field) =>
      fc.oneof({ weight: 2, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: member(field) }),
    ),
  ];
  const otherKnown = fc.oneof(
    { weight: 6, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: fc.constantFrom(...KNOWN_FIELDS).chain((field) => member(field)) },
  );
  const unknown = fc.array(fc.tuple(unknownFieldName, jsonJunk), { maxLength: 2 });
  return fc
    .record({
      own: fc.tuple(...own),
      otherKnown,
      unknown: fc.oneof({ weight: 4, arbitrary: fc.constant([]) }, { weight: 1, arbitrary: unknown }),
    })
    .map(({ own: ownFields, otherKnown: extra, unknown: extraUnknown }) => ({
      obj: [
        ...ownFields.filter((entry): entry is [string, JsonNode] => entry !== null),
        ...(extra ? [extra] : []),
        ...extraUnknown,
      ],
    }));
}

const jsonStyle: fc.Arbitrary<JsonStyle> = fc.record({
  bom: fc.oneof({ weight: 12, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  asciiOnly: fc.boolean(),
  spaced: fc.boolean(),
  trailer: fc.oneof(
    { weight: 12, arbitrary: fc.constant("") },
    { weight: 1, arbitrary: fc.constantFrom(" ", "\n", "x", "{}", ",", "\u0000", "]") },
  ),
});

function bodyFor(spec: RouteSpec): fc.Arbitrary<BodySpec> {
  return fc.oneof(
    {
      weight: 30,
      arbitrary: fc.record({ kind: fc.constant("json" as const), root: routeBody(spec), style: jsonStyle }),
    },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant("json" as const), root: jsonJunk, style: jsonStyle }) },
    { weight: 3, arbitrary: fc.constant<BodySpec>({ kind: "none" }) },
    {
      weight: 2,
      arbitrary: fc.record({ kind: fc.constant("bytes" as const), bytes: fc.array(fc.nat(255), { maxLength: 64 }) }),
    },
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant("text" as const),
        text: fc.oneof(
          fc.constantFrom(
            "",
            "{",
            '{"username":',
            "null",
            "[]",
            '"x"',
            "1",
            "true",
            "{}{}",
            "username=a&password=b",
            "{'a':1}",
            '{"a":1,}',
            "\ufeff{}",
          ),
          fuzzText(80),
        ),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant("big" as const),
        bytes: fc.oneof(fc.integer({ min: 15_000, max: 17_000 }), fc.integer({ min: 17_000, max: 70_000 })),
        shape: fc.constantFrom("string" as const, "array" as const, "keys" as const),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant("deep" as const),
        depth: fc.integer({ min: 50, max: 8000 }),
        open: fc.constantFrom("[" as const, "{" as const),
      }),
    },
  );
}

const METHODS_ODD = [
  "PROPFIND",
  "FOO",
  "get",
  "Post",
  "M-SEARCH",
  "PURGE",
  "QUERY",
  "SEARCH",
  "LINK",
  "TRACE",
  "CONNECT",
  "G@T",
  "",
];

function methodFor(spec: RouteSpec): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 14, arbitrary: fc.constant(spec.method) },
    { weight: 5, arbitrary: fc.constantFrom("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS") },
    { weight: 1, arbitrary: fc.constantFrom(...METHODS_ODD) },
  );
}

const pathParam: fc.Arbitrary<Value> = fc.oneof(
  { weight: 4, arbitrary: fc.constant<Value>({ fixture: "session-id" }) },
  { weight: 2, arbitrary: fc.uuid() },
  { weight: 3, arbitrary: fuzzText(30, 1) },
  { weight: 1, arbitrary: withNul(8) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      "%00",
      "%",
      "%zz",
      "..",
      "%2e%2e",
      "%2F",
      "a%00b",
      "x".repeat(65),
      "x".repeat(2000),
      "null",
      "0",
    ),
  },
);

const pathSuffix = fc.oneof(
  fc.constantFrom("/", "//", "/x", "%00", ".json", "/..", ";a=b", "%2F", "/%2e%2e/auth/me", "%20", "~", "/..%2F"),
  fuzzText(20),
);

const queryName = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom("access_token", "refresh_token", "token") },
  {
    weight: 2,
    arbitrary: fc.constantFrom("limit", "before", "redirect", "callback", "__proto__", "a[b]", "a[]", "cursor"),
  },
  { weight: 1, arbitrary: fuzzText(12, 1) },
);
const queryPair: fc.Arbitrary<[string, Value]> = queryName.chain((name) =>
  fc.tuple(
    fc.constant(name),
    name.includes("token")
      ? tokenValue(name === "refresh_token" ? "refresh" : "access")
      : fc.oneof(fc.constantFrom<Value>("10", "-1", "0", "1e9", "abc", "2030-01-01T00:00:00Z"), fuzzText(20)),
  ),
);

const authorization: fc.Arbitrary<AuthorizationSpec> = fc.record({
  scheme: fc.oneof(
    { weight: 12, arbitrary: fc.constant("Bearer") },
    {
      weight: 3,
      arbitrary: fc.constantFrom("bearer", "BEARER", "Basic", "Token", "DPoP", "Bearer,", "", "Bearer\u00a0"),
    },
  ),
  separator: fc.oneof(
    { weight: 12, arbitrary: fc.constant(" ") },
    { weight: 2, arbitrary: fc.constantFrom("  ", "\t", "", " \t ", ",") },
  ),
  value: tokenValue("access"),
});

const cookieSpec: fc.Arbitrary<CookieSpec> = fc.record({
  name: fc.oneof(
    { weight: 10, arbitrary: fc.constant("refresh") },
    {
      weight: 3,
      arbitrary: fc.constantFrom(
        "gatehouse_refresh",
        "__Secure-gatehouse_refresh",
        "__Host-gatehouse_refresh",
        " refresh",
        "Gatehouse_Refresh",
        "",
      ),
    },
    { weight: 2, arbitrary: fuzzText(12, 1) },
  ),
  value: fc.oneof(
    { weight: 6, arbitrary: tokenValue("refresh") },
    { weight: 1, arbitrary: fc.constantFrom('""', '"quoted"', "", "a;b", "=", "%00") },
    { weight: 1, arbitrary: fc.integer({ min: 4000, max: 15_000 }).map((n) => "c".repeat(n)) },
  ),
});

const cookieHeaders = fc.oneof(
  { weight: 10, arbitrary: fc.constant<CookieSpec[][]>([]) },
  { weight: 9, arbitrary: fc.array(cookieSpec, { minLength: 1, maxLength: 3 }).map((list) => [list]) },
  {
    weight: 1,
    arbitrary: fc.array(fc.array(cookieSpec, { minLength: 1, maxLength: 2 }), { minLength: 2, maxLength: 2 }),
  },
);

const contentTypes = (post: boolean): fc.Arbitrary<string[]> =>
  fc.oneof(
    { weight: post ? 24 : 2, arbitrary: fc.constant<string[]>(["application/json"]) },
    { weight: post ? 6 : 8, arbitrary: fc.constant<string[]>([]) },
    {
      weight: 4,
      arbitrary: fc
        .constantFrom(
          "application/json; charset=utf-8",
          "application/json;charset=UTF-16",
          "application/json; charset=latin1",
          "application/json; charset=bogus",
          "application/vnd.api+json",
          "APPLICATION/JSON",
          "application/json ; x=y",
          "text/plain",
          "application/x-www-form-urlencoded",
          "multipart/form-data; boundary=x",
          "application/jsonx",
          "application/json\u0000",
          "",
          "application/",
          "*/*",
          "application/json, text/plain",
        )
        .map((type): string[] => [type]),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.constantFrom("application/json", "text/plain"), fc.constantFrom("text/plain", "application/json"))
        .map(([a, b]): string[] => [a, b]),
    },
    { weight: 1, arbitrary: headerText(30).map((type): string[] => [type]) },
  );

const EXTRA_HEADER_NAMES = [
  "X-Forwarded-For",
  "X-Real-IP",
  "Forwarded",
  "Accept",
  "Accept-Encoding",
  "Accept-Language",
  "Range",
  "If-None-Match",
  "If-Modified-Since",
  "X-HTTP-Method-Override",
  "TE",
  "Max-Forwards",
  "Upgrade",
  "X-Requested-With",
  "Referer",
  "Content-Length ",
  "Proxy-Authorization",
  "X-Access-Token",
  "Authorization2",
  "Sec-Fetch-Mode",
  "DNT",
];
const extraHeader: fc.Arbitrary<[string, string]> = fc.tuple(
  fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...EXTRA_HEADER_NAMES) },
    {
      weight: 1,
      arbitrary: fc.string({
        unit: fc.constantFrom(..."abcxyzABC-_.!#$%&'*+^`|~0123456789"),
        minLength: 1,
        maxLength: 20,
      }),
    },
  ),
  fc.oneof(
    fc.constantFrom(
      "1.2.3.4",
      "for=1.2.3.4",
      "bytes=0-1",
      "websocket",
      "*",
      "gzip, br",
      "127.0.0.1, 10.0.0.1",
      "DELETE",
    ),
    headerText(40),
  ),
);

const transport: fc.Arbitrary<Transport> = fc.record({
  version: fc.oneof(
    { weight: 40, arbitrary: fc.constant("HTTP/1.1") },
    { weight: 2, arbitrary: fc.constant("HTTP/1.0") },
    { weight: 1, arbitrary: fc.constantFrom("HTTP/1.2", "HTTP/2.0", "HTTP/0.9", "http/1.1", "HTTP/1.1 x") },
  ),
  host: fc.oneof(
    { weight: 40, arbitrary: fc.constant("own" as const) },
    {
      weight: 3,
      arbitrary: fc.constantFrom(
        "missing" as const,
        "empty" as const,
        "other" as const,
        "twice" as const,
        "absolute-uri" as const,
      ),
    },
  ),
  framing: fc.oneof(
    { weight: 40, arbitrary: fc.constant("length" as const) },
    { weight: 3, arbitrary: fc.constantFrom("chunked" as const, "chunked-extensions" as const, "none" as const) },
    {
      weight: 1,
      arbitrary: fc.constantFrom("length-and-chunked" as const, "two-lengths" as const, "bad-chunk-size" as const),
    },
  ),
  expect: fc.oneof(
    { weight: 30, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: fc.constantFrom("100-continue", "100-Continue", "200-ok", "", "100-continue, x") },
  ),
  keepAlive: fc.oneof({ weight: 6, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  pipelined: fc.oneof({ weight: 30, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
});

/** The cookie a logged-in browser sends, untouched: refresh and logout get it often, to reach what follows. */
const browserCookie: fc.Arbitrary<CookieSpec[][]> = fc.constant([
  [{ name: "refresh", value: { token: "refresh", source: "pool", mutations: [] } }],
]);

function cookiesFor(spec: RouteSpec): fc.Arbitrary<CookieSpec[][]> {
  const readsCookie = spec.template === "/auth/refresh" || spec.template === "/auth/logout";
  return readsCookie
    ? fc.oneof({ weight: 1, arbitrary: browserCookie }, { weight: 1, arbitrary: cookieHeaders })
    : cookieHeaders;
}

export type FuzzProfile = "broad" | "throttle";

/** Routes with their weights: the broad profile spreads over all; the throttle profile hammers login and register. */
function routeFor(profile: FuzzProfile): fc.Arbitrary<RouteSpec> {
  const byTemplate = (template: string, method: string) =>
    ROUTES.find((r) => r.template === template && r.method === method)!;
  if (profile === "throttle") {
    return fc.oneof(
      { weight: 12, arbitrary: fc.constant(byTemplate("/auth/login", "POST")) },
      { weight: 4, arbitrary: fc.constant(byTemplate("/auth/register", "POST")) },
      { weight: 1, arbitrary: fc.constant(byTemplate("/auth/password", "POST")) },
      { weight: 3, arbitrary: fc.constantFrom(...ROUTES) },
    );
  }
  return fc.oneof(...ROUTES.map((r) => ({ weight: r.weight, arbitrary: fc.constant(r) })));
}

/** A well-formed JSON POST with nothing odd but its body: what a password-guessing client sends. */
function plainPost(route: string, body: fc.Arbitrary<JsonNode>): fc.Arbitrary<FuzzRequest> {
  return body.map((root) => ({
    method: "POST",
    route,
    pathStyle: "plain",
    pathParam: "",
    pathSuffix: "",
    query: [],
    rawQuery: "",
    authorization: [],
    cookies: [],
    contentType: ["application/json"],
    contentEncoding: null,
    origin: [],
    secFetchSite: null,
    userAgent: null,
    extraHeaders: [],
    oversizedHeader: 0,
    body: { kind: "json", root, style: { bom: false, asciiOnly: false, spaced: false, trailer: "" } },
    gzipBody: false,
    transport: {
      version: "HTTP/1.1",
      host: "own",
      framing: "length",
      expect: null,
      keepAlive: false,
      pipelined: false,
    },
  }));
}

/** Mostly wrong: the right password now and then resets the account's failure count. */
const guessedPassword = fc.oneof(
  { weight: 1, arbitrary: fc.constant<JsonNode>({ str: { fixture: "password" } }) },
  { weight: 8, arbitrary: strongPassword.map((str): JsonNode => ({ str })) },
  { weight: 2, arbitrary: passwordValue },
);
const credentials = fc.tuple(usernameValue, guessedPassword).map(
  ([u, p]): JsonNode => ({
    obj: [
      ["username", u],
      ["password", p],
    ],
  }),
);

/** Password guesses (mostly wrong, often at the pool's account) and registrations. */
const guess = fc.oneof(
  { weight: 6, arbitrary: plainPost("/auth/login", credentials) },
  { weight: 1, arbitrary: plainPost("/auth/register", credentials) },
);

/** One whole request. */
export function fuzzRequest(profile: FuzzProfile = "broad"): fc.Arbitrary<FuzzRequest> {
  const any = anyRequest(profile);
  return profile === "throttle" ? fc.oneof({ weight: 2, arbitrary: guess }, { weight: 1, arbitrary: any }) : any;
}

function anyRequest(profile: FuzzProfile): fc.Arbitrary<FuzzRequest> {
  return routeFor(profile).chain((spec) => {
    const post = spec.method === "POST" || spec.method === "DELETE";
    return fc.record({
      method: methodFor(spec),
      route: fc.constant(spec.template),
      pathStyle: fc.oneof(
        { weight: 20, arbitrary: fc.constant("plain" as const) },
        {
          weight: 3,
          arbitrary: fc.constantFrom(
            "upper" as const,
            "trailing-slash" as const,
            "double-slash" as const,
            "percent-encoded" as const,
            "dot-segment" as const,
            "suffix" as const,
          ),
        },
      ),
      pathParam,
      pathSuffix,
      query: fc.oneof(
        { weight: 6, arbitrary: fc.constant<Array<[string, Value]>>([]) },
        { weight: 1, arbitrary: fc.array(queryPair, { minLength: 1, maxLength: 3 }) },
      ),
      rawQuery: fc.oneof(
        { weight: 12, arbitrary: fc.constant("") },
        {
          weight: 1,
          arbitrary: fc.constantFrom(
            "%",
            "%zz",
            "a=%00",
            "&&&",
            "=",
            "a=1&a=2&a=3",
            "q=" + "x".repeat(3000),
            "a[b][c][d]=1",
          ),
        },
      ),
      authorization: fc.oneof(
        { weight: spec.bearer ? 3 : 8, arbitrary: fc.constant<AuthorizationSpec[]>([]) },
        { weight: spec.bearer ? 12 : 3, arbitrary: authorization.map((a) => [a]) },
        { weight: 1, arbitrary: fc.array(authorization, { minLength: 2, maxLength: 2 }) },
      ),
      cookies: cookiesFor(spec),
      contentType: contentTypes(post),
      contentEncoding: fc.oneof(
        { weight: 20, arbitrary: fc.constant(null) },
        {
          weight: 1,
          arbitrary: fc.constantFrom("gzip", "deflate", "br", "identity", "x-unknown", "gzip, gzip", "GZIP"),
        },
      ),
      origin: fc.oneof(
        { weight: 10, arbitrary: fc.constant<string[]>([]) },
        { weight: 3, arbitrary: fc.constant<string[]>(["own"]) },
        {
          weight: 2,
          arbitrary: fc.constantFrom<string[]>(
            ["http://evil.example"],
            ["null"],
            ["own", "http://evil.example"],
            ["http://127.0.0.1"],
            [""],
          ),
        },
        { weight: 1, arbitrary: headerText(30).map((origin): string[] => [origin]) },
      ),
      secFetchSite: fc.oneof(
        { weight: 10, arbitrary: fc.constant(null) },
        { weight: 1, arbitrary: fc.constantFrom("same-origin", "cross-site", "same-site", "none", "CROSS-SITE", "") },
      ),
      userAgent: fc.oneof(
        { weight: 3, arbitrary: fc.constant(null) },
        { weight: 2, arbitrary: headerText(60) },
        { weight: 1, arbitrary: fc.constantFrom("x".repeat(300), "Mozilla/5.0") },
      ),
      extraHeaders: fc.oneof(
        { weight: 4, arbitrary: fc.constant<Array<[string, string]>>([]) },
        { weight: 1, arbitrary: fc.array(extraHeader, { minLength: 1, maxLength: 3 }) },
      ),
      oversizedHeader: fc.oneof(
        { weight: 60, arbitrary: fc.constant(0) },
        { weight: 1, arbitrary: fc.integer({ min: 17_000, max: 40_000 }) },
      ),
      body:
        post || spec.fields.length > 0
          ? bodyFor(spec)
          : fc.oneof(
              { weight: 8, arbitrary: fc.constant<BodySpec>({ kind: "none" }) },
              { weight: 1, arbitrary: bodyFor(spec) },
            ),
      gzipBody: fc.boolean(),
      transport,
    });
  });
}
