import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { request, STRONG_PASSWORD } from "../helpers/http.ts";
import { runUntilExit, spawnServer } from "../helpers/spawn-server.ts";

describe("npm start with zero configuration", () => {
  const cwd = mkdtempSync(join(tmpdir(), "gatehouse-start-"));
  after(() => rmSync(cwd, { recursive: true, force: true }));

  it("creates ./data, keys and the database on first start, announced in one line; a restart keeps everything", async () => {
    const first = await spawnServer(cwd, {});
    let kid: string;
    try {
      assert.ok(existsSync(join(cwd, "data", "gatehouse.db")), "database created under ./data");
      const announce = first.output
        .join("")
        .split("\n")
        .filter((line) => line.includes("first start"));
      assert.equal(announce.length, 1, "one announcement line");
      assert.match(announce[0]!, /created database/);
      assert.match(announce[0]!, /EdDSA/);
      const page = await fetch(`${first.url}/`);
      assert.equal(page.status, 200);
      assert.match(page.headers.get("content-type") ?? "", /text\/html/);
      const reg = await request(`${first.url}/auth/register`, {
        method: "POST",
        json: { username: "persist", password: STRONG_PASSWORD },
      });
      assert.equal(reg.status, 201);
      const jwks = await request(`${first.url}/.well-known/jwks.json`);
      kid = (jwks.body as { keys: { kid: string }[] }).keys[0]!.kid;
    } finally {
      await first.stop();
    }

    const second = await spawnServer(cwd, {});
    try {
      assert.ok(!second.output.join("").includes("first start"), "nothing generated on restart");
      const login = await request(`${second.url}/auth/login`, {
        method: "POST",
        json: { username: "persist", password: STRONG_PASSWORD },
      });
      assert.equal(login.status, 200, "users survive restarts");
      const jwks = await request(`${second.url}/.well-known/jwks.json`);
      assert.equal((jwks.body as { keys: { kid: string }[] }).keys[0]!.kid, kid, "signing key kept");
    } finally {
      await second.stop();
    }
  });

  it("refuses a weak ACCESS_TOKEN_SECRET with one line naming the setting, and no stack trace", async () => {
    for (const secret of [
      "secret",
      "changeme-changeme-changeme-changeme-1",
      "09f26e402586e2faa8da4c98a35f1b20d6b033c6097befa8be3486a829587fe2f90a832bd3ff9d42710a4da095a2ce285b009f0c3730cd9b8e1af3eb84df6611",
      "a".repeat(64),
    ]) {
      const { code, output } = await runUntilExit(cwd, { ACCESS_TOKEN_SECRET: secret });
      assert.equal(code, 1, output);
      const lines = output.trim().split("\n");
      assert.equal(lines.length, 1, output);
      assert.match(lines[0]!, /ACCESS_TOKEN_SECRET/);
      assert.ok(!output.includes(secret), "the secret is not echoed");
    }
  });

  it("a bad setting stops the server with one line naming it", async () => {
    for (const [name, value] of [
      ["PORT", "eighty"],
      ["ACCESS_TOKEN_TTL", "forever"],
      ["REGISTRATION", "maybe"],
      ["ALLOWED_ORIGINS", "not a url"],
      ["DATABASE_URL", "mysql://root:hunter2@db/app"],
      ["LOG_LEVEL", "loud"],
    ] as const) {
      const { code, output } = await runUntilExit(cwd, { [name]: value });
      assert.equal(code, 1, output);
      assert.equal(output.trim().split("\n").length, 1, output);
      assert.match(output, new RegExp(name), output);
      assert.ok(!output.includes("hunter2"), "no password from a URL is echoed");
    }
  });

  it("a strong ACCESS_TOKEN_SECRET switches access tokens to HS256 and the JWKS publishes no secret", async () => {
    const secret = "3f9a1c7e5b2d4f6081a3c5e7f9b1d3e5a7c9e1f3b5d7f9a1c3e5a7b9d1f3e5a7";
    const server = await spawnServer(cwd, {
      ACCESS_TOKEN_SECRET: secret,
      DATABASE_URL: `sqlite:${join(cwd, "hs.db")}`,
    });
    try {
      await request(`${server.url}/auth/register`, {
        method: "POST",
        json: { username: "hsuser", password: STRONG_PASSWORD },
      });
      const login = await request(`${server.url}/auth/login`, {
        method: "POST",
        json: { username: "hsuser", password: STRONG_PASSWORD },
      });
      const token = (login.body as { access_token: string }).access_token;
      assert.equal(JSON.parse(Buffer.from(token.split(".")[0]!, "base64url").toString()).alg, "HS256");
      const jwks = await request(`${server.url}/.well-known/jwks.json`);
      assert.deepEqual(jwks.body, { keys: [] });
      assert.equal(
        (await request(`${server.url}/auth/me`, { headers: { authorization: `Bearer ${token}` } })).status,
        200,
      );
    } finally {
      await server.stop();
    }
  });
});
