import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { request, STRONG_PASSWORD } from "../helpers/http.ts";
import { startTestServer, type TestServer } from "../helpers/test-server.ts";

/** A 400 for a bad body names only fields the route knows, and stays short whatever was sent. */
describe("400 messages never echo what the client sent as a field name", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  const post = (path: string, body: string) =>
    request(`${server.url}/auth/${path}`, { method: "POST", body, headers: { "content-type": "application/json" } });

  it("an unknown field that looks like a token is not repeated in the message", async () => {
    const secretish = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl";
    const res = await post("login", JSON.stringify({ username: "ada", password: STRONG_PASSWORD, [secretish]: 1 }));
    assert.equal(res.status, 400);
    const body = res.body as { error: string; message: string };
    assert.equal(body.error, "invalid_request");
    assert.ok(!res.text.includes(secretish), `the key came back: ${res.text}`);
    assert.ok(!res.text.includes("eyJ"), res.text);
    assert.match(body.message, /username/, "the message may name the fields the route accepts");
  });

  it("a 15 KB field name gives a short message", async () => {
    const key = "k".repeat(15_000);
    const res = await post("register", JSON.stringify({ username: "ada", password: STRONG_PASSWORD, [key]: true }));
    assert.equal(res.status, 400);
    assert.ok(res.text.length < 300, `message is ${res.text.length} characters`);
    assert.ok(!res.text.includes("kkkkkkkk"), "the key came back");
  });

  it("many unknown fields, control characters and markup in names: none of it comes back", async () => {
    const odd = ["<script>alert(1)</script>", "\u001b[31mred", "a\u0000b", "\u202egnp.exe"];
    const keys = [...odd, ...Array.from({ length: 200 }, (_, i) => `f${i}`)];
    const body: Record<string, unknown> = { refresh_token: "x" };
    for (const key of keys) body[key] = 1;
    const res = await post("refresh", JSON.stringify(body));
    assert.equal(res.status, 400);
    assert.ok(res.text.length < 300, `message is ${res.text.length} characters`);
    for (const key of odd) assert.ok(!(res.body as { message: string }).message.includes(key), res.text);
    assert.ok(!res.text.includes("f199"), res.text);
  });
});
