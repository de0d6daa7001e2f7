import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { connect } from "node:net";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { ManualClock } from "../../src/core/clock.ts";
import { startTestServer, type TestServer } from "../helpers/test-server.ts";
import { nativeLogin, nativeRefresh, newIntrospectionToken, postForm, postJson } from "./foreign-client.ts";

const run = promisify(execFile);

/** Whether a `curl` binary can be run here. */
async function hasCurl(): Promise<boolean> {
  try {
    await run("curl", ["--version"], { timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}

/** One HTTP/1.1 request written byte by byte on a socket, as the most basic client would. */
function rawRequest(base: string, path: string, headers: Record<string, string>, body: string): Promise<string> {
  const { hostname, port } = new URL(base);
  const lines = [
    `POST ${path} HTTP/1.1`,
    `Host: ${hostname}:${port}`,
    "Connection: close",
    ...("Transfer-Encoding" in headers ? [] : [`Content-Length: ${Buffer.byteLength(body)}`]),
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) }, () => {
      socket.end(`${lines.join("\r\n")}\r\n\r\n${body}`);
    });
    let text = "";
    socket.setEncoding("utf8");
    socket.setTimeout(10_000, () => socket.destroy(new Error("raw request timed out")));
    socket.on("data", (chunk: string) => {
      text += chunk;
    });
    socket.on("end", () => resolve(text));
    socket.on("error", reject);
  });
}

describe("POST /auth/revoke (RFC 7009) from a client that is not Gatehouse's", () => {
  const clock = new ManualClock(Date.now());
  const introspectionToken = newIntrospectionToken();
  let server: TestServer;
  let revokeUrl: string;
  const active = async (token: string) => {
    const res = await postForm(
      `${server.url}/auth/introspect`,
      { token },
      { authorization: `Bearer ${introspectionToken}` },
    );
    assert.equal(res.status, 200, res.text);
    return (res.body as { active: boolean }).active;
  };

  before(async () => {
    server = await startTestServer({ clock, introspectionToken, accessTokenTtlSeconds: 300 });
    revokeUrl = `${server.url}/auth/revoke`;
  });
  after(() => server.close());

  it("revoking a refresh token ends its session: both tokens inactive, refresh fails, no body, no-store", async () => {
    const session = await nativeLogin(server.url, "rita");
    const res = await postForm(revokeUrl, { token: session.refresh, token_type_hint: "refresh_token" });
    assert.equal(res.status, 200);
    assert.equal(res.text, "");
    assert.equal(res.headers.get("cache-control"), "no-store");
    assert.equal(res.headers.get("set-cookie"), null, "no cookie involved");
    assert.equal(await active(session.refresh), false);
    assert.equal(await active(session.access), false);
    const refreshed = await nativeRefresh(server.url, session.refresh);
    assert.equal(refreshed.status, 401);
    assert.equal((refreshed.body as { error: string }).error, "invalid_grant");
    const me = await fetch(`${server.url}/auth/me`, { headers: { authorization: `Bearer ${session.access}` } });
    assert.equal(me.status, 401);
  });

  it("revoking an access token ends its session too (the grant, RFC 7009 §2)", async () => {
    const session = await nativeLogin(server.url, "axel");
    const other = await nativeLogin(server.url, "axel", false);
    const res = await postForm(revokeUrl, { token: session.access });
    assert.equal(res.status, 200);
    assert.equal(await active(session.access), false);
    assert.equal(await active(session.refresh), false);
    assert.equal((await nativeRefresh(server.url, session.refresh)).status, 401);
    assert.equal(await active(other.access), true, "the user's other session lives on");
    assert.equal((await nativeRefresh(server.url, other.refresh)).status, 200);
  });

  it("a rotated-out refresh token still revokes its session: whoever held it may end it", async () => {
    const session = await nativeLogin(server.url, "rolf");
    const rotated = await nativeRefresh(server.url, session.refresh);
    const successor = (rotated.body as { refresh_token: string }).refresh_token;
    assert.equal((await postForm(revokeUrl, { token: session.refresh })).status, 200);
    assert.equal(await active(successor), false);
  });

  it("unknown, malformed, expired and repeated tokens all answer 200 and change nothing", async () => {
    const bystander = await nativeLogin(server.url, "bea");
    for (const token of ["x", "a".repeat(43), "not.a.jwt", "A".repeat(9000)]) {
      const res = await postForm(revokeUrl, { token, token_type_hint: "access_token" });
      assert.equal(res.status, 200, token.slice(0, 20));
      assert.equal(res.text, "");
    }
    // An expired access token proves nothing any more: its session is not ended by it.
    const expiring = await nativeLogin(server.url, "bea", false);
    clock.advance(300_000 + 61_000);
    try {
      assert.equal((await postForm(revokeUrl, { token: expiring.access })).status, 200);
    } finally {
      clock.set(Date.now());
    }
    assert.equal((await nativeRefresh(server.url, expiring.refresh)).status, 200);
    // Revoking twice is harmless.
    assert.equal((await postForm(revokeUrl, { token: bystander.refresh })).status, 200);
    assert.equal((await postForm(revokeUrl, { token: bystander.refresh })).status, 200);
  });

  it("needs no client authentication, and refuses JSON and a missing token", async () => {
    const json = await postJson(revokeUrl, { token: "x" });
    assert.equal(json.status, 415);
    const missing = await postForm(revokeUrl, {});
    assert.equal(missing.status, 400);
    assert.equal((missing.body as { error: string }).error, "invalid_request");
  });

  it("form bodies: UTF-8 only, no content encoding, and the size limit holds without Content-Length", async () => {
    const latin1 = await fetch(revokeUrl, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded; charset=iso-8859-1" },
      body: "token=x",
    });
    assert.equal(latin1.status, 415);
    const gzip = await fetch(revokeUrl, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", "content-encoding": "gzip" },
      body: "token=x",
    });
    assert.equal(gzip.status, 415);
    const chunk = `token=${"a".repeat(9000)}`;
    const body = `${chunk.length.toString(16)}\r\n${chunk}\r\n${(9000).toString(16)}\r\n${"b".repeat(9000)}\r\n0\r\n\r\n`;
    const raw = await rawRequest(
      server.url,
      "/auth/revoke",
      { "Content-Type": "application/x-www-form-urlencoded", "Transfer-Encoding": "chunked" },
      body,
    );
    assert.match(raw, /^HTTP\/1\.1 413 /);
    assert.match(raw, /"error":"payload_too_large"/);
  });

  it("works from curl (or, without curl, from a raw HTTP/1.1 request)", async () => {
    const session = await nativeLogin(server.url, "curly");
    const introspectWith = async (token: string): Promise<string> => {
      const form = `token=${encodeURIComponent(token)}`;
      const headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        Authorization: `Bearer ${introspectionToken}`,
      };
      if (await hasCurl()) {
        const args = ["-sS", "--max-time", "10", "-X", "POST", `${server.url}/auth/introspect`, "--data-raw", form];
        for (const [name, value] of Object.entries(headers)) args.push("-H", `${name}: ${value}`);
        return (await run("curl", args, { timeout: 15_000 })).stdout;
      }
      const raw = await rawRequest(server.url, "/auth/introspect", headers, form);
      assert.match(raw, /^HTTP\/1\.1 200 /);
      return raw.slice(raw.indexOf("\r\n\r\n") + 4);
    };
    assert.equal((JSON.parse(await introspectWith(session.access)) as { active: boolean }).active, true);

    const raw = await rawRequest(
      server.url,
      "/auth/revoke",
      { "Content-Type": "application/x-www-form-urlencoded" },
      `token=${encodeURIComponent(session.refresh)}&token_type_hint=refresh_token`,
    );
    assert.match(raw, /^HTTP\/1\.1 200 OK\r\n/);
    assert.deepEqual(JSON.parse(await introspectWith(session.access)), { active: false });
  });

  it("no token reaches the logs", async () => {
    const session = await nativeLogin(server.url, "quiet");
    await postForm(revokeUrl, { token: session.refresh });
    const logs = server.logs.join("\n");
    assert.equal(logs.includes(session.refresh), false);
    assert.equal(logs.includes(session.access), false);
  });
});
