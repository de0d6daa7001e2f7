import { SHARED_STORE_KEY_ENCRYPTION_KEY } from "../helpers/test-server.ts";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import express from "express";
import { createGatehouse, type CreateGatehouseOptions, type Gatehouse } from "../../src/gatehouse.ts";
import { createLogger } from "../../src/logging/logger.ts";
import { listen } from "../../src/server/start-server.ts";
import { request } from "../helpers/http.ts";
import { type CliRun, runCli as runGatehouse } from "../helpers/cli.ts";

/** One Gatehouse instance behind a real HTTP server: the auth routes plus an app's own protected routes. */
export interface Instance {
  url: string;
  auth: Gatehouse;
  /** GET /api/orders behind `requireAuth()` (the default: session checked) with this bearer token; the status. */
  orders(accessToken: string): Promise<number>;
  /** GET /api/stateless behind `requireAuth({ checkSession: false })`; the status. */
  stateless(accessToken: string): Promise<number>;
  close(): Promise<void>;
}

export async function startInstance(options: Omit<CreateGatehouseOptions, "logger">): Promise<Instance> {
  const auth = await createGatehouse({
    keyEncryptionKey: SHARED_STORE_KEY_ENCRYPTION_KEY,
    ...options,
    logger: createLogger({ level: "silent" }),
  });
  const app = express();
  app.use("/auth", auth.router());
  app.get("/api/orders", auth.requireAuth(), (req, res) => {
    res.json({ user: req.auth!.userId });
  });
  app.get("/api/stateless", auth.requireAuth({ checkSession: false }), (req, res) => {
    res.json({ user: req.auth!.userId });
  });
  const { server, url } = await listen(app, 0, "127.0.0.1");
  const get = async (path: string, token: string) =>
    (await request(`${url}${path}`, { headers: { authorization: `Bearer ${token}` } })).status;
  return {
    url,
    auth,
    orders: (token) => get("/api/orders", token),
    stateless: (token) => get("/api/stateless", token),
    close: () => closeInstance(server, auth),
  };
}

async function closeInstance(server: Server, auth: Gatehouse): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await auth.close();
}

export const randomPassword = (): string => `pw ${randomBytes(18).toString("base64url")}`;

export interface Login {
  accessToken: string;
  refreshToken: string;
  sessionId: string;
}

/** Logs in on `instance` as a native client would (refresh token in the body). */
export async function login(instance: Instance, username: string, password: string): Promise<Login> {
  const res = await request(`${instance.url}/auth/login`, {
    method: "POST",
    json: { username, password, token_transport: "body" },
  });
  assert.equal(res.status, 200, res.text);
  const body = res.body as { access_token: string; refresh_token: string };
  const claims = JSON.parse(Buffer.from(body.access_token.split(".")[1]!, "base64url").toString()) as { sid: string };
  return { accessToken: body.access_token, refreshToken: body.refresh_token, sessionId: claims.sid };
}

export async function register(instance: Instance, username: string, password: string): Promise<string> {
  const res = await request(`${instance.url}/auth/register`, { method: "POST", json: { username, password } });
  assert.equal(res.status, 201, res.text);
  return (res.body as { user: { id: string } }).user.id;
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** Polls until `refused()` is true; the milliseconds it took from `since`, or Infinity after `limitMs`. */
export async function timeUntil(refused: () => Promise<boolean>, since: number, limitMs: number): Promise<number> {
  for (;;) {
    if (await refused()) return performance.now() - since;
    if (performance.now() - since > limitMs) return Number.POSITIVE_INFINITY;
  }
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export type { CliRun };

/** Runs the real `gatehouse` CLI in its own process against `databaseUrl`. */
export function runCli(databaseUrl: string, args: string[]): Promise<CliRun> {
  // The key the test servers on this database were started with, as an operator would set it for the CLI too.
  const env = { DATABASE_URL: databaseUrl, KEY_ENCRYPTION_KEY: SHARED_STORE_KEY_ENCRYPTION_KEY };
  return runGatehouse(args, { cwd: tmpdir(), env, timeoutMs: 60_000 });
}

/** A PostgreSQL URL whose connections use `schema`, as a CLI or server given only DATABASE_URL would. */
export function urlWithSchema(url: string, schema: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set("options", `-c search_path=${schema}`);
  return parsed.toString();
}

/** The `kid` in an access token's header. */
export const kidOf = (token: string): string =>
  (JSON.parse(Buffer.from(token.split(".")[0]!, "base64url").toString()) as { kid: string }).kid;
