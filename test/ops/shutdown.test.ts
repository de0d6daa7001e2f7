import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { request as httpRequest, Agent } from "node:http";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { request, STRONG_PASSWORD } from "../helpers/http.ts";
import { type SpawnedServer, spawnServer } from "../helpers/spawn-server.ts";

const DRAIN_SECONDS = 3;

interface Answer {
  status: number;
  connection: string | undefined;
}

/** One GET on a connection of its own (or of `agent`); resolves with the status or rejects with the socket error. */
function get(url: string, path: string, agent: Agent | false = false): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}${path}`, { agent }, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }));
    });
    req.on("error", reject);
    req.end();
  });
}

/**
 * A login whose body arrives in two parts: it is in flight from the first byte, and finishes
 * only when `finish()` sends the rest. Resolves with the raw HTTP answer.
 */
function slowLogin(url: string) {
  const { hostname, port } = new URL(url);
  const body = JSON.stringify({ username: "draining", password: STRONG_PASSWORD, token_transport: "body" });
  const socket = connect(Number(port), hostname);
  let answer = "";
  socket.on("data", (chunk) => (answer += chunk));
  const done = new Promise<string>((resolve, reject) => {
    socket.on("end", () => resolve(answer));
    socket.on("error", reject);
  });
  socket.write(
    `POST /auth/login HTTP/1.1\r\nHost: ${hostname}:${port}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body.slice(0, 10)}`,
  );
  return {
    finish: () => socket.write(body.slice(10)),
    done,
  };
}

async function waitForOutput(server: SpawnedServer, text: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!server.output.join("").includes(text)) {
    if (Date.now() > deadline) assert.fail(`no "${text}" in the output:\n${server.output.join("")}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("graceful shutdown of the standalone server on SIGTERM", () => {
  let directory: string;
  let server: SpawnedServer;

  before(async () => {
    directory = mkdtempSync(join(tmpdir(), "gatehouse-shutdown-"));
    server = await spawnServer(directory, {
      SHUTDOWN_DRAIN: String(DRAIN_SECONDS),
      SHUTDOWN_TIMEOUT: "20",
      LOG_LEVEL: "info",
      // The six logins below come from one address and must queue, not be refused past its share.
      HASHES_PER_IP: "10",
    });
    const registered = await request(`${server.url}/auth/register`, {
      method: "POST",
      json: { username: "draining", password: STRONG_PASSWORD },
    });
    assert.equal(registered.status, 201, registered.text);
  });
  after(() => {
    if (server.child.exitCode === null) server.child.kill("SIGKILL");
    rmSync(directory, { recursive: true, force: true });
  });

  it("drains, finishes what it accepted, refuses nothing during the drain, and exits 0", async () => {
    const login = () =>
      request(`${server.url}/auth/login`, {
        method: "POST",
        json: { username: "draining", password: STRONG_PASSWORD, token_transport: "body" },
      });
    // Several argon2 logins queue behind each other (one hash at a time on this machine's cores).
    const logins = Array.from({ length: 6 }, login);
    const slow = slowLogin(server.url);
    await new Promise((resolve) => setTimeout(resolve, 50));

    // The server sees the signal a moment after this, so its drain ends after `drainEnds` too.
    const drainEnds = Date.now() + (DRAIN_SECONDS - 1) * 1000;
    const exited = server.stop(); // SIGTERM
    const burst = Array.from({ length: 60 }, () => get(server.url, "/healthz"));

    const ready = await get(server.url, "/readyz");
    assert.equal(ready.status, 503, "readiness turns 503 at once");

    // A keep-alive client keeps calling during the drain: every answer comes, each says Connection: close.
    const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });
    const duringDrain: Answer[] = [];
    while (Date.now() < drainEnds) {
      duringDrain.push(await get(server.url, "/healthz", keepAlive));
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    keepAlive.destroy();

    const burstAnswers = await Promise.allSettled(burst);
    const refused = burstAnswers.filter((answer) => answer.status === "rejected");
    assert.equal(refused.length, 0, `burst requests failed: ${refused.map((r) => String(r.reason)).join(", ")}`);
    for (const answer of burstAnswers) assert.equal(answer.status === "fulfilled" && answer.value.status, 200);

    assert.ok(duringDrain.length >= 3, `only ${duringDrain.length} requests during the drain`);
    for (const answer of duringDrain) {
      assert.equal(answer.status, 200);
      assert.equal(answer.connection, "close", "keep-alive clients are told to reconnect elsewhere");
    }

    // The drain ends: the listener closes, but the slow login accepted before is still finished.
    await waitForOutput(server, "no new connections", 10_000);
    await assert.rejects(get(server.url, "/healthz"), /ECONNREFUSED/, "new connections are refused after the drain");
    slow.finish();
    const slowAnswer = await slow.done;
    assert.match(slowAnswer, /^HTTP\/1\.1 200 /, slowAnswer.slice(0, 200));

    for (const answer of await Promise.all(logins)) assert.equal(answer.status, 200, answer.text);
    assert.equal(await exited, 0);
    const output = server.output.join("");
    assert.match(output, /"msg":"stopped"/);
    assert.doesNotMatch(output, /timeout reached/);
  });
});

describe("graceful shutdown: requests in flight are bounded by SHUTDOWN_TIMEOUT", () => {
  let directory: string;
  let server: SpawnedServer;

  before(async () => {
    directory = mkdtempSync(join(tmpdir(), "gatehouse-shutdown-"));
    server = await spawnServer(directory, { SHUTDOWN_DRAIN: "0", SHUTDOWN_TIMEOUT: "1" });
  });
  after(() => {
    if (server.child.exitCode === null) server.child.kill("SIGKILL");
    rmSync(directory, { recursive: true, force: true });
  });

  it("cuts a request that never finishes once the timeout passes, then exits 0", async () => {
    const stalled = slowLogin(server.url);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = Date.now();
    assert.equal(await server.stop(), 0);
    assert.ok(Date.now() - started < 10_000, "the shutdown is bounded");
    assert.equal(await stalled.done.catch(() => ""), "", "the stalled request got no answer: its connection was cut");
    assert.match(server.output.join(""), /timeout reached/);
  });
});
