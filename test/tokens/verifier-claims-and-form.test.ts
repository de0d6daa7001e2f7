import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AuthError } from "../../src/core/errors.ts";
import { createAccessTokenVerifier } from "../../src/core/tokens/access-token-verifier.ts";
import { AUDIENCE, b64, ISSUER, setup } from "./token-fixtures.ts";

function rejects(verify: (token: string) => unknown, token: string, pattern: RegExp, what: string): void {
  assert.throws(
    () => verify(token),
    (error: unknown) => error instanceof AuthError && error.code === "invalid_token" && pattern.test(error.message),
    what,
  );
}

describe("verifier: claims", () => {
  it("exp: expired beyond the tolerance fails, within the tolerance passes, exactly at exp+tolerance fails", () => {
    const { verify, forge, header, claims, now, clock } = setup("EdDSA");
    const token = forge(header(), claims({ exp: now + 10 }));
    assert.equal(verify(token).exp, now + 10);
    clock.advance(10_000 + 59_999);
    assert.equal(verify(token).exp, now + 10, "59.999 s past exp is inside the 60 s tolerance");
    clock.advance(1);
    rejects(verify, token, /expired/, "at exp + 60 s");
  });

  it("a smaller clock tolerance is honoured, and more than 60 s is refused at creation", () => {
    const { ring, forge, header, claims, now, clock } = setup("EdDSA");
    const verify = createAccessTokenVerifier({
      resolveKey: (kid) => ring.resolve(kid),
      issuer: ISSUER,
      audience: AUDIENCE,
      clock,
      clockToleranceSeconds: 0,
      cache: false,
    });
    const token = forge(header(), claims({ exp: now + 1 }));
    clock.advance(999);
    assert.equal(verify(token).sub, "user-1");
    clock.advance(1);
    rejects(verify, token, /expired/, "tolerance 0");
    for (const bad of [61, -1, Number.NaN, "60"]) {
      assert.throws(
        () =>
          createAccessTokenVerifier({
            resolveKey: () => undefined,
            issuer: ISSUER,
            audience: AUDIENCE,
            clock,
            clockToleranceSeconds: bad as number,
          }),
        (error: unknown) =>
          error instanceof AuthError && error.code === "invalid_config" && /clockToleranceSeconds/.test(error.message),
      );
    }
  });

  it("exp, iat and nbf must be finite numbers; exp is required", () => {
    const { verify, forge, forgeText, header, claims, now } = setup("EdDSA");
    rejects(verify, forge(header(), claims({ exp: undefined })), /exp/, "missing exp");
    rejects(verify, forge(header(), claims({ exp: String(now + 600) })), /exp/, "exp as string");
    rejects(verify, forge(header(), claims({ exp: null })), /exp/, "exp null");
    rejects(verify, forge(header(), claims({ exp: [now + 600] })), /exp/, "exp array");
    rejects(verify, forge(header(), claims({ iat: "now" })), /iat/, "iat string");
    rejects(verify, forge(header(), claims({ iat: undefined })), /iat/, "iat missing");
    rejects(verify, forge(header(), claims({ nbf: "0" })), /nbf/, "nbf string");
    rejects(verify, forge(header(), claims({ nbf: true })), /nbf/, "nbf boolean");
    // JSON has no NaN/Infinity literal, but 1e999 parses to Infinity.
    const raw = (payload: string) => forgeText(header(), payload);
    rejects(
      verify,
      raw(`{"iss":"${ISSUER}","aud":"${AUDIENCE}","sub":"u","sid":"s","jti":"j","iat":${now},"exp":1e999}`),
      /exp/,
      "exp Infinity",
    );
    rejects(
      verify,
      raw(`{"iss":"${ISSUER}","aud":"${AUDIENCE}","sub":"u","sid":"s","jti":"j","iat":-1e999,"exp":${now + 60}}`),
      /iat/,
      "iat -Infinity",
    );
    rejects(
      verify,
      raw(
        `{"iss":"${ISSUER}","aud":"${AUDIENCE}","sub":"u","sid":"s","jti":"j","iat":${now},"nbf":1e999,"exp":${now + 60}}`,
      ),
      /nbf/,
      "nbf Infinity",
    );
  });

  it("future nbf and future iat beyond the tolerance fail; within it they pass", () => {
    const { verify, forge, header, claims, now } = setup("EdDSA");
    rejects(verify, forge(header(), claims({ nbf: now + 61 })), /not valid yet/, "nbf 61 s ahead");
    assert.equal(verify(forge(header(), claims({ nbf: now + 60 }))).nbf, now + 60);
    rejects(verify, forge(header(), claims({ iat: now + 3600 })), /issued in the future/, "iat an hour ahead");
    assert.equal(verify(forge(header(), claims({ iat: now + 30 }))).iat, now + 30);
  });

  it("iss must match; aud must be the audience or contain it", () => {
    const { verify, forge, header, claims } = setup("EdDSA");
    rejects(verify, forge(header(), claims({ iss: "https://evil.example" })), /iss/, "wrong iss");
    rejects(verify, forge(header(), claims({ iss: undefined })), /iss/, "missing iss");
    rejects(verify, forge(header(), claims({ aud: "other-api" })), /aud/, "wrong aud");
    rejects(verify, forge(header(), claims({ aud: undefined })), /aud/, "missing aud");
    rejects(verify, forge(header(), claims({ aud: ["other-api"] })), /aud/, "array without the audience");
    rejects(verify, forge(header(), claims({ aud: [AUDIENCE, 7] })), /aud/, "array with a non-string");
    assert.deepEqual(verify(forge(header(), claims({ aud: ["other-api", AUDIENCE] }))).aud, ["other-api", AUDIENCE]);
  });

  it("sub, sid and jti must be non-empty strings; scope a string; roles strings", () => {
    const { verify, forge, header, claims } = setup("EdDSA");
    for (const name of ["sub", "sid", "jti"]) {
      rejects(verify, forge(header(), claims({ [name]: undefined })), new RegExp(name), `missing ${name}`);
      rejects(verify, forge(header(), claims({ [name]: "" })), new RegExp(name), `empty ${name}`);
      rejects(verify, forge(header(), claims({ [name]: 12 })), new RegExp(name), `numeric ${name}`);
    }
    rejects(verify, forge(header(), claims({ scope: ["a"] })), /scope/, "scope array");
    rejects(verify, forge(header(), claims({ roles: "admin" })), /roles/, "roles string");
    rejects(verify, forge(header(), claims({ roles: ["admin", 1] })), /roles/, "roles with a number");
  });
});

describe("verifier: header rules", () => {
  it("typ must be at+jwt or application/at+jwt, any case", () => {
    const { verify, forge, header, claims } = setup("EdDSA");
    for (const typ of ["at+jwt", "AT+JWT", "application/at+jwt", "Application/AT+JWT"])
      assert.equal(verify(forge(header({ typ }), claims())).sub, "user-1", typ);
    for (const typ of ["JWT", "jwt", "at+jwt ", "application/jwt", "", 1, null])
      rejects(verify, forge(header({ typ }), claims()), /typ/, `typ ${String(typ)}`);
    rejects(verify, forge(header({ typ: undefined }), claims()), /typ/, "missing typ");
  });

  it("any crit fails, even empty or naming a known claim", () => {
    const { verify, forge, header, claims } = setup("EdDSA");
    for (const crit of [["exp"], [], ["b64"], "exp", null])
      rejects(verify, forge(header({ crit }), claims()), /crit/, `crit ${JSON.stringify(crit)}`);
  });

  it("header and payload must be JSON objects", () => {
    const { verify, forge, forgeText, header, claims } = setup("EdDSA");
    const [, p, s] = forge(header(), claims()).split(".") as [string, string, string];
    for (const json of ["[1]", "null", "42", '"text"', "true"]) {
      rejects(verify, `${b64(json)}.${p}.${s}`, /header is not a JSON object/, `header ${json}`);
      rejects(verify, forgeText(header(), json), /payload is not a JSON object/, `payload ${json}`);
    }
    rejects(verify, `${b64("{not json")}.${p}.${s}`, /header is not valid JSON/, "header not JSON");
    rejects(verify, forgeText(header(), "{not json"), /payload is not valid JSON/, "payload not JSON");
  });
});

describe("verifier: compact form", () => {
  it("JWE (5 segments), too few and too many segments fail", () => {
    const { verify, sign } = setup("EdDSA");
    const token = sign({ sub: "u", sid: "s" }).token;
    const [h, p, s] = token.split(".") as [string, string, string];
    rejects(verify, `${h}.${p}.${s}.x.y`, /JWE/, "five segments");
    rejects(verify, `${h}.${p}.${s}.x`, /three dot-separated segments/, "four segments");
    rejects(verify, `${h}.${p}`, /three dot-separated segments/, "two segments");
    rejects(verify, h, /three dot-separated segments/, "one segment");
    rejects(verify, "", /three dot-separated segments/, "empty");
    rejects(verify, "..", /base64url/, "three empty segments");
  });

  it("padding, + and / characters, whitespace and non-canonical base64url fail", () => {
    const { verify, sign } = setup("EdDSA");
    const token = sign({ sub: "u", sid: "s" }).token;
    const [h, p, s] = token.split(".") as [string, string, string];
    const variants: [string, string][] = [
      [`${h}=.${p}.${s}`, "padded header"],
      [`${h}.${p}=.${s}`, "padded payload"],
      [`${h}.${p}.${s}==`, "padded signature"],
      [`${h}.${p}+.${s}`, "+ in payload"],
      [`${h}.${p}.${s.replace(/[-_]/, "/")}${/[-_]/.test(s) ? "" : "/"}`, "/ in signature"],
      [`${h.replace(/[-_]/, "+")}${/[-_]/.test(h) ? "" : "+"}.${p}.${s}`, "+ in header"],
      [` ${token}`, "leading space"],
      [`${token} `, "trailing space"],
      [`${token}\n`, "trailing newline"],
      [`${h}.${p.slice(0, 10)} ${p.slice(10)}.${s}`, "space inside payload"],
      [`${h}.${p}.${s.slice(0, -1)}${s.endsWith("A") ? "B" : "A"}`, "changed last signature character"],
      [`${h}.${p}.${s}\u0000`, "NUL"],
      [`${h}.${p}.é${s}`, "non-ASCII"],
    ];
    for (const [variant, what] of variants)
      rejects(verify, variant, /base64url|signature is invalid|header is not/, what);
    // Ed25519 signatures are 64 bytes: 86 characters whose last one carries 4 unused bits.
    const nonCanonical = `${h}.${p}.${s.slice(0, -1)}${String.fromCharCode(s.charCodeAt(s.length - 1) + 1)}`;
    rejects(verify, nonCanonical, /signature is not strict/, "unused bits set in the last signature character");
    assert.equal(verify(token).sub, "u", "the untouched token still verifies");
  });

  it("a token over maxTokenBytes fails before parsing; one at the limit is accepted", () => {
    const { verify, ring, clock, forge, header, claims } = setup("EdDSA");
    const withPad = (length: number) => forge(header(), claims({ pad: "x".repeat(length) }));
    let pad = 5700;
    while (withPad(pad + 1).length <= 8192) pad++;
    const largest = withPad(pad);
    const over = withPad(pad + 1);
    assert.ok(largest.length <= 8192 && largest.length > 8185, `largest valid token is ${largest.length} bytes`);
    assert.equal(verify(largest).sub, "user-1");
    assert.ok(over.length > 8192);
    rejects(verify, over, /longer than 8192 bytes/, "a validly signed token just over 8 KiB");
    rejects(verify, "a".repeat(1_000_000), /longer than 8192 bytes/, "1 MB of junk");

    const token = withPad(10);
    const exact = createAccessTokenVerifier({
      resolveKey: (kid) => ring.resolve(kid),
      issuer: ISSUER,
      audience: AUDIENCE,
      clock,
      maxTokenBytes: token.length,
      cache: false,
    });
    assert.equal(exact(token).sub, "user-1", "length equal to the limit passes");
    const tight = createAccessTokenVerifier({
      resolveKey: (kid) => ring.resolve(kid),
      issuer: ISSUER,
      audience: AUDIENCE,
      clock,
      maxTokenBytes: token.length - 1,
      cache: false,
    });
    rejects(tight, token, /longer than/, "one byte over a custom limit");
  });

  it("non-string input fails with invalid_token", () => {
    const { verify } = setup("EdDSA");
    for (const value of [undefined, null, 42, {}, ["a.b.c"]])
      rejects(verify, value as unknown as string, /string/, String(value));
  });
});

describe("verifier: options", () => {
  it("refuses bad options at creation, naming the option", () => {
    const { ring, clock } = setup("EdDSA");
    const base = { resolveKey: (kid: string) => ring.resolve(kid), issuer: ISSUER, audience: AUDIENCE, clock };
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ resolveKey: "ring" }, /resolveKey/],
      [{ issuer: "" }, /issuer/],
      [{ audience: 7 }, /audience/],
      [{ clock: {} }, /clock/],
      [{ maxTokenBytes: 0 }, /maxTokenBytes/],
      [{ maxTokenBytes: 8192.5 }, /maxTokenBytes/],
      [{ cache: { maxEntries: 0 } }, /cache/],
      [{ cache: { maxEntries: Number.POSITIVE_INFINITY } }, /cache/],
      [{ cache: true }, /cache/],
    ];
    for (const [override, pattern] of cases) {
      assert.throws(
        () => createAccessTokenVerifier({ ...base, ...override } as never),
        (error: unknown) =>
          error instanceof AuthError && error.code === "invalid_config" && pattern.test(error.message),
        JSON.stringify(override),
      );
    }
  });
});

describe("verifier: token lifetime", () => {
  it("refuses a correctly signed token whose exp - iat exceeds the longest lifetime the issuer grants (plus tolerance)", () => {
    const { forge, header, claims, now, ring, clock } = setup("EdDSA");
    const verify = createAccessTokenVerifier({
      resolveKey: (kid) => ring.resolve(kid),
      issuer: ISSUER,
      audience: AUDIENCE,
      clock,
      maxLifetimeSeconds: 900,
      cache: false,
    });
    assert.equal(verify(forge(header(), claims({ iat: now, exp: now + 900 }))).exp, now + 900);
    assert.equal(verify(forge(header(), claims({ iat: now, exp: now + 960 }))).exp, now + 960, "tolerance allowed");
    rejects(verify, forge(header(), claims({ iat: now, exp: now + 961 })), /lifetime/, "one second past");
    rejects(verify, forge(header(), claims({ iat: now - 60, exp: now + 315_360_000 })), /lifetime/, "ten years");
  });

  it("the default bound is one day, and more than that is refused at creation", () => {
    const { forge, header, claims, now, ring, clock } = setup("EdDSA");
    const base = {
      resolveKey: (kid: string) => ring.resolve(kid),
      issuer: ISSUER,
      audience: AUDIENCE,
      clock,
      cache: false as const,
    };
    const verify = createAccessTokenVerifier(base);
    assert.equal(verify(forge(header(), claims({ iat: now, exp: now + 86_400 }))).exp, now + 86_400);
    rejects(verify, forge(header(), claims({ iat: now, exp: now + 86_400 + 61 })), /lifetime/, "a day and a minute");
    for (const bad of [0, 86_401, Number.NaN]) {
      assert.throws(
        () => createAccessTokenVerifier({ ...base, maxLifetimeSeconds: bad }),
        (error: unknown) =>
          error instanceof AuthError && error.code === "invalid_config" && /maxLifetimeSeconds/.test(error.message),
      );
    }
  });
});
