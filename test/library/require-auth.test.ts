import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import express from "express";
import { createArgon2Hasher } from "../../src/core/passwords/argon2-hasher.ts";
import { createGatehouse, type Gatehouse } from "../../src/index.ts";
import { createLogger } from "../../src/logging/logger.ts";
import { listen } from "../../src/server/start-server.ts";
import { request, STRONG_PASSWORD } from "../helpers/http.ts";

describe("library: createGatehouse + requireAuth in a user's own app", () => {
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-lib-"));
  let auth: Gatehouse;
  let server: Server;
  let url: string;

  before(async () => {
    auth = await createGatehouse({
      database: `sqlite:${join(dir, "app.db")}`,
      logger: createLogger({ level: "silent" }),
    });
    const app = express();
    app.use("/auth", auth.router());
    app.get("/api/orders", auth.requireAuth(), (req, res) =>
      res.json({ user: req.auth!.userId, sid: req.auth!.sessionId }),
    );
    app.get("/api/admin", auth.requireAuth({ roles: ["admin"] }), (_req, res) => res.json({ ok: true }));
    app.get("/api/reports", auth.requireAuth({ scopes: ["reports:read"] }), (_req, res) => res.json({ ok: true }));
    app.get("/api/live", auth.requireAuth({ checkSession: true }), (_req, res) => res.json({ ok: true }));
    app.get("/api/stateless", auth.requireAuth({ checkSession: false }), (_req, res) => res.json({ ok: true }));
    ({ server, url } = await listen(app, 0, "127.0.0.1"));

    const hasher = createArgon2Hasher(auth.config.argon2, auth.config.argon2);
    await auth.store.insertUser({
      id: randomUUID(),
      username: "root",
      passwordHash: await hasher.hash(STRONG_PASSWORD),
      createdAt: Date.now(),
      disabledAt: null,
      roles: ["admin"],
    });
    await request(`${url}/auth/register`, { method: "POST", json: { username: "plain", password: STRONG_PASSWORD } });
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await auth.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const tokenFor = async (username: string) => {
    const res = await request(`${url}/auth/login`, { method: "POST", json: { username, password: STRONG_PASSWORD } });
    assert.equal(res.status, 200, res.text);
    return (res.body as { access_token: string }).access_token;
  };

  it("sets a typed req.auth with user id and session id", async () => {
    const token = await tokenFor("plain");
    const res = await request(`${url}/api/orders`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200);
    const claims = JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString());
    assert.deepEqual(res.body, { user: claims.sub, sid: claims.sid });
  });

  it("answers 401 with a bare challenge when no token is sent", async () => {
    const res = await request(`${url}/api/orders`);
    assert.equal(res.status, 401);
    assert.equal(res.headers.get("www-authenticate"), 'Bearer realm="gatehouse"');
  });

  it("roles: 403 insufficient_scope for a user without the role, 200 for one with it", async () => {
    const plain = await request(`${url}/api/admin`, {
      headers: { authorization: `Bearer ${await tokenFor("plain")}` },
    });
    assert.equal(plain.status, 403);
    assert.equal((plain.body as { error: string }).error, "insufficient_scope");
    assert.match(plain.headers.get("www-authenticate") ?? "", /error="insufficient_scope", scope="admin"/);
    const root = await request(`${url}/api/admin`, { headers: { authorization: `Bearer ${await tokenFor("root")}` } });
    assert.equal(root.status, 200);
  });

  it("scopes: a token without the scope gets 403 insufficient_scope", async () => {
    const res = await request(`${url}/api/reports`, {
      headers: { authorization: `Bearer ${await tokenFor("plain")}` },
    });
    assert.equal(res.status, 403);
    assert.match(res.headers.get("www-authenticate") ?? "", /scope="reports:read"/);
  });

  it("checks the session by default: an ended session's token is refused; checkSession: false accepts it", async () => {
    const token = await tokenFor("plain");
    const get = async (path: string) =>
      (await request(`${url}${path}`, { headers: { authorization: `Bearer ${token}` } })).status;
    assert.deepEqual([await get("/api/live"), await get("/api/orders"), await get("/api/stateless")], [200, 200, 200]);
    await request(`${url}/auth/logout`, { method: "POST", json: {}, headers: { authorization: `Bearer ${token}` } });
    assert.deepEqual([await get("/api/live"), await get("/api/orders"), await get("/api/stateless")], [401, 401, 200]);
  });

  it("validates options once, at creation, naming the option", async () => {
    assert.throws(() => auth.requireAuth({ roles: ["has space"] }), /requireAuth option "roles"/);
    await assert.rejects(createGatehouse({ accessTokenTtlSeconds: -5 } as never), /accessTokenTtlSeconds/);
    await assert.rejects(createGatehouse({ refreshGraceSeconds: 600 }), /refreshGraceSeconds/);
    await assert.rejects(createGatehouse({ password: { minLength: 6 } }), /password\.minLength/);
    await assert.rejects(createGatehouse({ bogus: true } as never), /bogus/);
  });
});
