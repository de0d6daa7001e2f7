import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { type AddressObject, simpleParser } from "mailparser";
import { request, STRONG_PASSWORD } from "../helpers/http.ts";
import { type SpawnedServer, spawnServer } from "../helpers/spawn-server.ts";
import { linkToken, startSmtpServer, to } from "./smtp-test-server.ts";
import { runCli } from "../helpers/cli.ts";

const post = (url: string, json: unknown) => request(url, { method: "POST", json });

const cli = (cwd: string, args: string[]) => runCli(args, { cwd });

/** Polls until `check` returns a value (or the time is up). */
async function eventually<T>(check: () => T | undefined, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error("timed out waiting");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("zero-config mail: .eml files in ./data/outbox and `gatehouse mail`", () => {
  const cwd = mkdtempSync(join(tmpdir(), "gatehouse-mail-"));
  let server: SpawnedServer | undefined;
  after(async () => {
    await server?.stop();
    rmSync(cwd, { recursive: true, force: true });
  });

  it("writes each mail as a 0600 file in a 0700 directory, logs file and recipient but never the link", async () => {
    server = await spawnServer(cwd, { COOKIE_SECURE: "false" });
    const response = await post(`${server.url}/auth/register`, {
      username: "zed",
      password: STRONG_PASSWORD,
      email: "zed@example.test",
    });
    assert.equal(response.status, 201);
    const outbox = join(cwd, "data", "outbox");
    const file = await eventually(() => {
      try {
        return readdirSync(outbox).find((name) => name.endsWith(".eml"));
      } catch {
        return undefined;
      }
    });
    assert.equal(statSync(outbox).mode & 0o777, 0o700);
    assert.equal(statSync(join(outbox, file)).mode & 0o777, 0o600);
    const eml = await simpleParser(readFileSync(join(outbox, file)));
    assert.equal(eml.headers.get("to") && (eml.to as AddressObject).text, "zed@example.test");
    assert.ok(typeof eml.html === "string" && eml.html.includes("#verify="));
    const token = /#verify=([A-Za-z0-9_-]{43})/.exec(eml.text ?? "")?.[1];
    assert.ok(token, "a verify link in the text part");
    const line = await eventually(() =>
      server!.output
        .join("")
        .split("\n")
        .find((l) => l.includes("mail written to the outbox directory")),
    );
    assert.ok(line.includes(file) && line.includes("zed@example.test"), line);
    assert.ok(!server.output.join("").includes(token), "the link never reaches the log");

    const id = file.slice(0, -4);
    const list = await cli(cwd, ["mail", "list", "--json"]);
    assert.equal(list.code, 0, list.stderr);
    const rows = JSON.parse(list.stdout) as { id: string; to: string; subject: string }[];
    assert.deepEqual(
      rows.map((row) => [row.id, row.to, row.subject]),
      [[id, "zed@example.test", "Confirm your email address"]],
    );
    const show = await cli(cwd, ["mail", "show", id]);
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /^Subject: Confirm your email address$/m);
    assert.ok(show.stdout.includes(`http://localhost:3000/#verify=${token}`));
    const table = await cli(cwd, ["mail", "list"]);
    assert.match(table.stdout, /Confirm your email address/);
    assert.equal((await cli(cwd, ["mail", "show", "../../etc/passwd"])).code, 2);
    const missing = await cli(cwd, ["mail", "show", "00000000-0000-0000-0000-000000000000"]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /No mail/);
    // The link works: posted as the demo page would.
    assert.equal((await post(`${server.url}/auth/email/verify`, { token })).status, 204);
  });
});

describe("durable delivery: the outbox survives crashes and SMTP outages", () => {
  const cwd = mkdtempSync(join(tmpdir(), "gatehouse-durable-"));
  after(() => rmSync(cwd, { recursive: true, force: true }));

  it("kill -9 right after a 202 loses no mail; a server that was down gets every message once it is up", async () => {
    const smtp = await startSmtpServer();
    const env = { COOKIE_SECURE: "false", SMTP_URL: smtp.url, PUBLIC_URL: "http://localhost:3000" };
    let server = await spawnServer(cwd, env);
    try {
      const users = ["kim", "lee", "max"];
      for (const name of users) {
        const email = `${name}@example.test`;
        assert.equal(
          (await post(`${server.url}/auth/register`, { username: name, password: STRONG_PASSWORD, email })).status,
          201,
        );
        const [mail] = await smtp.waitFor(to(email));
        assert.equal(
          (await post(`${server.url}/auth/email/verify`, { token: linkToken(mail!, "verify") })).status,
          204,
        );
      }
      await smtp.stop();
      for (const name of users) {
        assert.equal((await post(`${server.url}/auth/password/forgot`, { email: `${name}@example.test` })).status, 202);
      }
      server.child.kill("SIGKILL");
      await new Promise((resolve) => server.child.once("exit", resolve));
      await smtp.start();
      server = await spawnServer(cwd, env);
      for (const name of users) {
        const resets = await smtp.waitFor(
          (m) => to(`${name}@example.test`)(m) && m.parsed.subject === "Reset your password",
          1,
          // A message the killed process had claimed waits for its lease to run out (at most 35 s).
          60_000,
        );
        const token = linkToken(resets.at(-1)!, "reset");
        const reset = await post(`${server.url}/auth/password/reset`, {
          token,
          new_password: "a new passphrase after the crash",
        });
        assert.equal(reset.status, 204);
      }
    } finally {
      await server.stop();
      await smtp.stop();
    }
  });
});
