import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseForm } from "../../src/express/form-body.ts";

/** What the WHATWG URL standard's form parser (URLSearchParams) makes of the same text. */
function reference(text: string): Record<string, string | string[]> {
  const form: Record<string, string | string[]> = Object.create(null);
  for (const [name, value] of new URLSearchParams(text)) {
    const seen = form[name];
    form[name] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  return form;
}

describe("parseForm", () => {
  it("reads forms exactly as URLSearchParams does, repeated names becoming lists", () => {
    const samples = [
      "token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig-_x&token_type_hint=access_token",
      "a=1&b=%20x+y&c",
      "t=%E2%82%AC%",
      "t=%ZZ&u=%e2%82",
      "&&x=1&",
      "a+b=c+d",
      "k=1&k=2&k=3",
      "=value&name=",
      "emoji=%F0%9F%94%91&plain=caf%C3%A9",
      "",
    ];
    for (const text of samples) assert.deepEqual({ ...parseForm(text) }, { ...reference(text) }, text);
  });

  it("keeps names like __proto__ as plain keys of a prototype-less object", () => {
    const form = parseForm("__proto__=1&constructor=2&token=t");
    assert.equal(Object.getPrototypeOf(form), null);
    assert.deepEqual(Object.entries(form), [
      ["__proto__", "1"],
      ["constructor", "2"],
      ["token", "t"],
    ]);
    assert.equal(({} as Record<string, unknown>)["token"], undefined, "Object.prototype is untouched");
  });

  it("refuses more than 32 parameters", () => {
    const many = Array.from({ length: 33 }, (_, n) => `p${n}=x`).join("&");
    assert.throws(() => parseForm(many), { code: "invalid_request" });
    assert.equal(Object.keys(parseForm(many.split("&").slice(0, 32).join("&"))).length, 32);
  });
});
