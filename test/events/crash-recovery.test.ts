import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import Database from "better-sqlite3";
import { request, STRONG_PASSWORD } from "../helpers/http.ts";
import { type SpawnedServer, spawnServer } from "../helpers/spawn-server.ts";
import { eventually } from "./eventually.ts";
import { WebhookReceiver } from "./webhook-receiver.ts";

describe("kill -9 right after the answer", () => {
  const cwd = mkdtempSync(join(tmpdir(), "gatehouse-crash-"));
  const database = join(cwd, "gatehouse.db");
  const servers: SpawnedServer[] = [];
  const receiver = new WebhookReceiver();
  after(async () => {
    for (const server of servers) server.child.kill("SIGKILL");
    await receiver.stop();
    rmSync(cwd, { recursive: true, force: true });
  });

  it("loses no event: each is delivered once the server is back", async () => {
    await receiver.start();
    // The receiver takes the requests but never answers, so none can be acknowledged before the kill.
    receiver.answer = () => "hold";
    const env = {
      DATABASE_URL: `sqlite:${database}`,
      WEBHOOK_URL: receiver.url,
      WEBHOOK_SECRET: receiver.secret,
      WEBHOOK_TIMEOUT: "1s",
      OUTBOX_RETRY_BASE: "1s",
      OUTBOX_RETRY_MAX: "2s",
    };
    const first = await spawnServer(cwd, env);
    servers.push(first);
    const registered = await request(`${first.url}/auth/register`, {
      method: "POST",
      json: { username: "kim", password: STRONG_PASSWORD },
    });
    assert.equal(registered.status, 201);
    const login = await request(`${first.url}/auth/login`, {
      method: "POST",
      json: { username: "kim", password: STRONG_PASSWORD, token_transport: "body" },
    });
    assert.equal(login.status, 200);
    first.child.kill("SIGKILL");
    await new Promise((resolve) => first.child.once("exit", resolve));

    const db = new Database(database, { readonly: true });
    const ids = (db.prepare("SELECT id FROM audit_events ORDER BY id").all() as { id: string }[]).map((r) => r.id);
    db.close();
    assert.equal(ids.length, 2, "user_registered and login_succeeded committed with their changes");
    assert.equal(receiver.acknowledged().size, 0, "nothing was acknowledged before the crash");

    receiver.answer = () => 204;
    const second = await spawnServer(cwd, env);
    servers.push(second);
    // A message the dead worker was sending comes back when its lease (timeout + 5 s) runs out.
    await eventually(() => ids.every((id) => receiver.acknowledged().has(id)), 30_000);
    const types = receiver.received
      .filter((w) => w.status === 204)
      .map((w) => (w.verified as { type: string }).type)
      .sort();
    assert.deepEqual(types, ["login_succeeded", "user_registered"]);
    await second.stop();
  });
});
