import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Gatehouse } from "../../src/gatehouse.ts";
import { CredentialPool } from "./credentials.ts";
import { type CheckContext, checkExchange, findLogLeaks } from "./invariants.ts";
import { jsonBytes, PLAIN_STYLE } from "./json-text.ts";
import type { ConcreteRequest, Facts, Secret } from "./materialize.ts";
import { parseResponse, type RawResponse } from "./raw-http.ts";
import { mutateToken } from "./token-mutations.ts";

/**
 * The fuzz test is only as good as its checks: each one must fire on a bad answer and stay
 * quiet on a good one. These cases feed the checks hand-made answers.
 */

const GENUINE_ACCESS = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ1c2VyLTEiLCJqdGkiOiJhYmMifQ.c2lnbmF0dXJlLWJ5dGVzLWhlcmU";
const GENUINE_REFRESH = "R".repeat(43);

function context(): CheckContext {
  const pool = new CredentialPool(0, {} as Gatehouse);
  pool.issuedAccess.add(GENUINE_ACCESS);
  pool.issuedRefresh.add(GENUINE_REFRESH);
  pool.username = "fuzz_owner";
  return { pool, reflected: ["a username someone registered"] };
}

function request(facts: Partial<Facts> = {}, secrets: Secret[] = []): ConcreteRequest {
  return {
    bytes: Buffer.from("GET / HTTP/1.1\r\n\r\n"),
    secrets,
    reflected: [],
    facts: {
      method: "GET",
      route: "/auth/me",
      bearerRoute: false,
      head: false,
      authorizationTokens: [],
      accessTokenElsewhere: false,
      refreshCookieValues: [],
      bodyRefreshToken: undefined,
      pipelinedHealthChecks: 0,
      oversized: false,
      genuinePoolTokens: [],
      newPasswordForPool: undefined,
      ...facts,
    },
  };
}

function answer(status: number, body: unknown, headers: Array<[string, string]> = []): RawResponse {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  const type: Array<[string, string]> =
    typeof body === "string" ? [] : [["content-type", "application/json; charset=utf-8"]];
  return { status, reason: "", headers: [...type, ...headers], body: Buffer.from(text, "utf8"), interim: [] };
}

const rulesOf = (req: ConcreteRequest, response: RawResponse | undefined, failure?: string) =>
  checkExchange(context(), req, { response, failure }).map((v) => v.rule);

const error = (code: string, message = "Something about the request.") => ({ error: code, message });
const challenge: Array<[string, string]> = [["www-authenticate", 'Bearer realm="gatehouse", error="invalid_token"']];

describe("fuzz invariants", () => {
  it("accept contract errors and plain successes", () => {
    assert.deepEqual(rulesOf(request(), answer(401, error("invalid_token"), challenge)), []);
    assert.deepEqual(rulesOf(request(), answer(404, error("not_found"))), []);
    assert.deepEqual(rulesOf(request(), answer(429, error("too_many_requests"), [["retry-after", "30"]])), []);
    assert.deepEqual(rulesOf(request(), answer(431, error("invalid_request"))), []);
    assert.deepEqual(rulesOf(request(), answer(200, "<!doctype html>")), []);
  });

  it("flag any 5xx, 503 included", () => {
    assert.deepEqual(rulesOf(request(), answer(500, error("internal_error"))), ["server error"]);
    assert.deepEqual(rulesOf(request(), answer(503, error("unavailable"))), ["server error"]);
  });

  it("flag errors outside the {error, message} shape, unknown codes and mismatched statuses", () => {
    assert.ok(rulesOf(request(), answer(400, "")).includes("error shape"));
    assert.ok(rulesOf(request(), answer(400, "")).includes("error not JSON"));
    assert.ok(rulesOf(request(), answer(400, { ...error("invalid_request"), detail: "x" })).includes("error shape"));
    assert.ok(rulesOf(request(), answer(400, error("bad_thing"))).includes("unknown error code"));
    assert.ok(rulesOf(request(), answer(403, error("invalid_request"))).includes("status does not match code"));
    assert.ok(rulesOf(request(), answer(401, error("invalid_token"))).includes("401 without Bearer challenge"));
    assert.ok(rulesOf(request(), answer(429, error("too_many_requests"))).includes("429 without Retry-After"));
  });

  it("do not read the body of an answer to HEAD", () => {
    assert.deepEqual(rulesOf(request({ head: true }), answer(401, "")), []);
  });

  it("flag a request left without an answer, unless it was over the size limits", () => {
    assert.deepEqual(rulesOf(request(), undefined, "connection closed"), ["no answer"]);
    assert.deepEqual(rulesOf(request({ oversized: true }), undefined, "socket error ECONNRESET"), []);
  });

  it("flag token answers that may be cached", () => {
    const grant = { access_token: "new.token.value", token_type: "Bearer", expires_in: 900 };
    assert.deepEqual(rulesOf(request(), answer(200, grant)), ["token answer cacheable"]);
    assert.deepEqual(rulesOf(request(), answer(200, grant, [["cache-control", "no-store"]])), []);
  });

  it("flag a secret that comes back in the body, escaped or not, or in a header", () => {
    const password: Secret = { value: 'pa"ss\u0000word-1234', what: "a generated password value" };
    const body = error("invalid_request", `Bad password ${password.value}`);
    assert.deepEqual(rulesOf(request({}, [password]), answer(400, body)), ["echo"]);
    const field: Secret = { value: "unknownFieldName", what: "an unknown field name" };
    const header: Array<[string, string]> = [["x-debug", `saw ${field.value}`]];
    assert.deepEqual(rulesOf(request({}, [field]), answer(400, error("invalid_request"), header)), ["echo"]);
  });

  it("do not count as echo: short or common values, usernames shown back, tokens the answer issued", () => {
    const short: Secret = { value: "abc", what: "a generated cookie value" };
    const word: Secret = { value: "password", what: "a generated password value" };
    const username: Secret = { value: "someone registered", what: "a generated token value" };
    const body = error("invalid_request", 'field "password" abc, hello a username someone registered');
    assert.deepEqual(rulesOf(request({}, [short, word, username]), answer(400, body)), []);
    // A truncated token shares its first characters with every token: a new one in a login answer is no echo.
    const truncated: Secret = {
      value: GENUINE_ACCESS.slice(0, 30),
      what: "access token from pool, mutated (truncate)",
    };
    const grant = {
      access_token: `${GENUINE_ACCESS.slice(0, 30)}ZZZ.new.token`,
      token_type: "Bearer",
      expires_in: 900,
    };
    assert.deepEqual(
      rulesOf(
        request({ route: "/auth/login", method: "POST" }, [truncated]),
        answer(200, grant, [["cache-control", "no-store"]]),
      ),
      [],
    );
  });

  it("flag success on a bearer route without a token the server issued", () => {
    const forged = request({ bearerRoute: true, authorizationTokens: [`${GENUINE_ACCESS}x`] });
    assert.deepEqual(rulesOf(forged, answer(200, { user: {} })), [
      "bearer route accepted a token the server never issued",
    ]);
    const genuine = request({ bearerRoute: true, authorizationTokens: [GENUINE_ACCESS] });
    assert.deepEqual(rulesOf(genuine, answer(200, { user: {} })), []);
    assert.deepEqual(rulesOf(forged, answer(401, error("invalid_token"), challenge)), []);
  });

  it("flag an access token accepted while also in the query or body", () => {
    const twice = request({ bearerRoute: true, authorizationTokens: [GENUINE_ACCESS], accessTokenElsewhere: true });
    assert.deepEqual(rulesOf(twice, answer(200, { user: {} })), ["access token in two places accepted"]);
  });

  it("flag refresh success with a made-up token, a doubled cookie, or the cookie's token moved into the body", () => {
    const refresh = (facts: Partial<Facts>) => request({ method: "POST", route: "/auth/refresh", ...facts });
    const grant = (extra: object = {}) =>
      answer(200, { access_token: "a.b.c", token_type: "Bearer", expires_in: 1, ...extra }, [
        ["cache-control", "no-store"],
      ]);
    assert.deepEqual(rulesOf(refresh({ refreshCookieValues: [GENUINE_REFRESH] }), grant()), []);
    assert.deepEqual(rulesOf(refresh({ refreshCookieValues: [`${GENUINE_REFRESH}x`] }), grant()), [
      "refresh accepted a token the server never issued",
    ]);
    assert.deepEqual(rulesOf(refresh({ refreshCookieValues: [GENUINE_REFRESH, "other"] }), grant()), [
      "duplicated refresh cookie accepted",
    ]);
    assert.deepEqual(
      rulesOf(refresh({ refreshCookieValues: [GENUINE_REFRESH] }), grant({ refresh_token: "n".repeat(43) })),
      ["refresh token moved from cookie to body"],
    );
    assert.deepEqual(
      rulesOf(refresh({ bodyRefreshToken: GENUINE_REFRESH }), grant({ refresh_token: "n".repeat(43) })),
      [],
    );
  });

  it("find secrets in log lines, JSON-escaped too, and ignore usernames", () => {
    const ctx = context();
    const secret: Secret = { value: 'sec"ret\\value-99', what: "a generated password value" };
    const line = JSON.stringify({ level: 30, msg: "login failed", detail: secret.value });
    assert.equal(findLogLeaks(ctx, [secret], [line]).length, 1);
    assert.equal(
      findLogLeaks(ctx, [{ value: "fuzz_owner", what: "x" }], [JSON.stringify({ user: "fuzz_owner" })]).length,
      0,
    );
    assert.equal(findLogLeaks(ctx, [secret], [JSON.stringify({ msg: "request", path: "/auth/login" })]).length, 0);
  });
});

describe("fuzz helpers", () => {
  it("token mutations are deterministic and change the token", () => {
    const ops = [
      { op: "flip" as const, at: 0.5, char: "A" },
      { op: "truncate" as const, at: 0.9 },
      { op: "drop-segment" as const, index: 2 },
      { op: "pad-segment" as const, index: 1 },
      { op: "edit-header" as const, patch: { alg: { str: "none" } } },
      { op: "edit-payload" as const, patch: { exp: { num: "1e400" } } },
      { op: "append-segments" as const, count: 2 },
    ];
    for (const op of ops) {
      const mutated = mutateToken(GENUINE_ACCESS, [op]);
      assert.notEqual(mutated, GENUINE_ACCESS, op.op);
      assert.equal(mutateToken(GENUINE_ACCESS, [op]), mutated, op.op);
    }
    const header = mutateToken(GENUINE_ACCESS, [
      { op: "edit-header", patch: { alg: { str: "none" }, kid: null } },
    ]).split(".")[0]!;
    assert.deepEqual(JSON.parse(Buffer.from(header, "base64url").toString("utf8")), { alg: "none" });
  });

  it("writes JSON that JSON.stringify cannot: repeated keys, huge numbers, lone surrogates", () => {
    const text = jsonBytes(
      {
        obj: [
          ["a", 1],
          ["a", { num: "1e400" }],
          ["s", { str: "x\ud800y" }],
        ],
      },
      PLAIN_STYLE,
      (v) => String(v),
    ).toString("utf8");
    assert.equal(text, '{"a":1,"a":1e400,"s":"x\\ud800y"}');
    assert.equal((JSON.parse(text) as { s: string }).s, "x\ud800y");
  });

  it("parses answers: Content-Length, chunked, interim 100 Continue, HEAD", () => {
    const parse = (text: string, head = false) => parseResponse(Buffer.from(text, "latin1"), head, false);
    const plain = parse("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nhi");
    assert.equal(plain.kind === "complete" && plain.response.body.toString(), "hi");
    const chunked = parse(
      "HTTP/1.1 100 Continue\r\n\r\n" +
        "HTTP/1.1 400 Bad\r\ntransfer-encoding: chunked\r\n\r\n2\r\nab\r\n1\r\nc\r\n0\r\n\r\n",
    );
    assert.ok(
      chunked.kind === "complete" && chunked.response.status === 400 && chunked.response.body.toString() === "abc",
    );
    assert.deepEqual(chunked.kind === "complete" && chunked.response.interim, [100]);
    assert.equal(parse("HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhi").kind, "partial");
    assert.equal(parse("HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n", true).kind, "complete");
  });
});
