import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, describe, it } from "node:test";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

const APP = `
import express from "express";
import { createGatehouse, AuthError } from "gatehouse";
const auth = await createGatehouse({ database: "sqlite::memory:", logger: undefined, realm: "plain-app" });
const app = express();
app.use("/auth", auth.router());
app.get("/api/orders", auth.requireAuth(), (req, res) => res.json({ user: req.auth.userId }));
const server = app.listen(0, "127.0.0.1", async () => {
  const base = "http://127.0.0.1:" + server.address().port;
  const json = (body) => ({ method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const creds = { username: "plain-node", password: "correct horse battery staple 42" };
  const reg = await fetch(base + "/auth/register", json(creds));
  const login = await (await fetch(base + "/auth/login", json(creds))).json();
  const orders = await fetch(base + "/api/orders", { headers: { authorization: "Bearer " + login.access_token } });
  const denied = await fetch(base + "/api/orders");
  console.log(JSON.stringify({ reg: reg.status, orders: orders.status, denied: denied.status, authError: typeof AuthError }));
  server.close(); await auth.close();
});
`;

describe("the published package", () => {
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-consumer-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("is importable as `gatehouse` from a plain Node ESM app, with type declarations", () => {
    assert.ok(existsSync(join(ROOT, "dist/index.js")), "run `npm run build` first (npm test does)");
    assert.ok(existsSync(join(ROOT, "dist/index.d.ts")), "type declarations are built");
    assert.ok(existsSync(join(ROOT, "dist/client/index.js")), "gatehouse/client is built");
    mkdirSync(join(dir, "node_modules"));
    symlinkSync(ROOT, join(dir, "node_modules/gatehouse"), "dir");
    symlinkSync(join(ROOT, "node_modules/express"), join(dir, "node_modules/express"), "dir");
    writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
    writeFileSync(join(dir, "app.mjs"), APP);
    const out = execFileSync(process.execPath, ["app.mjs"], { cwd: dir, encoding: "utf8", timeout: 30_000 });
    const result = JSON.parse(out.trim().split("\n").filter((l) => l.startsWith("{\"reg\"")).pop()!);
    assert.deepEqual(result, { reg: 201, orders: 200, denied: 401, authError: "function" });
  });
});
