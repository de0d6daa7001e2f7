import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { isAuthError } from "../../src/core/errors.ts";
import { createGatehouse, type Gatehouse } from "../../src/gatehouse.ts";
import { createLogger } from "../../src/logging/logger.ts";
import { STRONG_PASSWORD } from "../helpers/http.ts";
import { type CliRun, runCli } from "../helpers/cli.ts";

const SAFE_SECRET_FREE_ENV = { COOKIE_SECURE: "true", REGISTRATION: "closed" };

type Run = CliRun;

describe("gatehouse CLI", () => {
  const cwd = mkdtempSync(join(tmpdir(), "gatehouse-cli-"));
  const database = `sqlite:${join(cwd, "cli.db")}`;
  after(() => rmSync(cwd, { recursive: true, force: true }));

  /** Runs the real CLI in `cwd` with only the environment given (plus PATH/HOME). */
  const cli = (args: string[], options: { env?: Record<string, string>; stdin?: string } = {}): Promise<Run> =>
    runCli(args, {
      cwd,
      env: { DATABASE_URL: database, ...options.env },
      ...(options.stdin === undefined ? {} : { stdin: options.stdin }),
    });

  const open = (): Promise<Gatehouse> => createGatehouse({ database, logger: createLogger({ level: "silent" }) });
  const caller = { ip: "203.0.113.9", userAgent: "cli-test" };

  async function loginWorks(username: string): Promise<boolean> {
    const auth = await open();
    try {
      await auth.service.login(username, STRONG_PASSWORD, caller);
      return true;
    } catch (error) {
      if (isAuthError(error) && error.code === "invalid_credentials") return false;
      throw error;
    } finally {
      await auth.close();
    }
  }

  before(async () => {
    const run = await cli(["migrate"]);
    assert.equal(run.code, 0, run.stderr);
  });

  it("--help exits 0 and lists the commands; subcommands have help too", async () => {
    const run = await cli(["--help"]);
    assert.equal(run.code, 0);
    for (const name of ["serve", "secret", "keys", "users", "sessions", "token", "migrate", "doctor"])
      assert.match(run.stdout, new RegExp(`\\b${name}\\b`));
    const sub = await cli(["users", "add", "--help"]);
    assert.equal(sub.code, 0);
    assert.match(sub.stdout, /--password-stdin/);
  });

  it("usage mistakes exit 2 with one gatehouse: line", async () => {
    const unknown = await cli(["bogus"]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /^gatehouse: unknown command 'bogus'/);
    const missing = await cli(["users", "disable"]);
    assert.equal(missing.code, 2);
    const noPassword = await cli(["users", "add", "nobody"]);
    assert.equal(noPassword.code, 2);
    assert.match(noPassword.stderr, /--password-stdin/);
  });

  it("secret prints 128 hex characters, and JSON with --json; each is new", async () => {
    const one = await cli(["secret"]);
    assert.equal(one.code, 0);
    assert.match(one.stdout, /^[0-9a-f]{128}\n$/);
    const two = await cli(["secret", "--json"]);
    const { secret } = JSON.parse(two.stdout) as { secret: string };
    assert.match(secret, /^[0-9a-f]{128}$/);
    assert.notEqual(secret, one.stdout.trim());
  });

  it("users add reads the password from stdin (also with registration closed); users list shows the user, no hash", async () => {
    const added = await cli(["users", "add", "alice", "--password-stdin"], {
      stdin: `${STRONG_PASSWORD}\n`,
      env: { REGISTRATION: "closed" },
    });
    assert.equal(added.code, 0, added.stderr);
    assert.ok(!added.stdout.includes(STRONG_PASSWORD));
    const fromEnv = await cli(["users", "add", "bob"], { env: { GATEHOUSE_PASSWORD: STRONG_PASSWORD } });
    assert.equal(fromEnv.code, 0, fromEnv.stderr);
    const duplicate = await cli(["users", "add", "alice", "--password-stdin"], { stdin: STRONG_PASSWORD });
    assert.equal(duplicate.code, 1);
    assert.match(duplicate.stderr, /^gatehouse: /);
    assert.ok(!duplicate.stderr.includes("    at "), "no stack trace");

    const list = await cli(["users", "list", "--json"]);
    assert.equal(list.code, 0, list.stderr);
    const users = JSON.parse(list.stdout) as Record<string, unknown>[];
    assert.deepEqual(users.map((u) => u["username"]).sort(), ["alice", "bob"]);
    assert.ok(!list.stdout.includes("argon2"), "no password hash");
    assert.ok(users.every((u) => !("passwordHash" in u)));
    assert.equal(await loginWorks("alice"), true);
  });

  it("users disable stops logins and ends sessions; enable restores", async () => {
    const disabled = await cli(["users", "disable", "bob"]);
    assert.equal(disabled.code, 0, disabled.stderr);
    assert.equal(await loginWorks("bob"), false);
    const listed = JSON.parse((await cli(["users", "list", "--json"])).stdout) as {
      username: string;
      disabledAt: string | null;
    }[];
    assert.notEqual(listed.find((u) => u.username === "bob")?.disabledAt, null);
    const enabled = await cli(["users", "enable", "bob"]);
    assert.equal(enabled.code, 0, enabled.stderr);
    assert.equal(await loginWorks("bob"), true);
    const unknown = await cli(["users", "disable", "nobody"]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /^gatehouse: No user named "nobody"/);
  });

  it("keys list shows kid/alg/state without private keys; keys rotate adds a published, not yet active key", async () => {
    type Key = { kid: string; alg: string; state: string };
    const before = await cli(["keys", "list", "--json"]);
    assert.equal(before.code, 0, before.stderr);
    const keys = JSON.parse(before.stdout) as Key[];
    assert.equal(keys.filter((k) => k.state === "active").length, 1);
    assert.equal(keys[0]?.alg, "EdDSA");
    assert.ok(!before.stdout.includes('"d"') && !before.stdout.includes("privateJwk"));

    const rotated = await cli(["keys", "rotate", "--json"]);
    assert.equal(rotated.code, 0, rotated.stderr);
    const { kid } = JSON.parse(rotated.stdout) as { kid: string };
    const after = JSON.parse((await cli(["keys", "list", "--json"])).stdout) as Key[];
    assert.equal(after.find((k) => k.kid === kid)?.state, "pending");
    assert.equal(
      after.find((k) => k.state === "active")?.kid,
      keys.find((k) => k.state === "active")?.kid,
      "old key still signs",
    );

    const auth = await open();
    try {
      assert.ok(
        auth.keys.jwks().keys.some((k) => k.kid === kid),
        "new key is published in the JWKS",
      );
      assert.notEqual(auth.keys.signingKey().kid, kid);
    } finally {
      await auth.close();
    }
  });

  it("sessions list and revoke a session created by login", async () => {
    const auth = await open();
    let sessionId: string;
    let refreshToken: string;
    try {
      const grant = await auth.service.login("alice", STRONG_PASSWORD, caller);
      sessionId = grant.session.id;
      refreshToken = grant.refreshToken;
    } finally {
      await auth.close();
    }
    const list = await cli(["sessions", "list", "alice", "--json"]);
    assert.equal(list.code, 0, list.stderr);
    const sessions = JSON.parse(list.stdout) as { id: string; userAgent: string }[];
    assert.ok(sessions.some((s) => s.id === sessionId && s.userAgent === "cli-test"));

    const revoked = await cli(["sessions", "revoke", sessionId]);
    assert.equal(revoked.code, 0, revoked.stderr);
    const again = await cli(["sessions", "revoke", sessionId]);
    assert.equal(again.code, 1);
    const listed = JSON.parse((await cli(["sessions", "list", "alice", "--json"])).stdout) as { id: string }[];
    assert.ok(!listed.some((s) => s.id === sessionId));

    const check = await open();
    try {
      await assert.rejects(check.service.refresh(refreshToken), (error: unknown) => isAuthError(error));
    } finally {
      await check.close();
    }
  });

  it("token decode shows header and claims; token verify accepts a real token and rejects a tampered one", async () => {
    const auth = await open();
    let token: string;
    try {
      token = (await auth.service.login("alice", STRONG_PASSWORD, caller)).accessToken;
    } finally {
      await auth.close();
    }
    const decoded = await cli(["token", "decode", token, "--json"]);
    assert.equal(decoded.code, 0, decoded.stderr);
    const { header, claims } = JSON.parse(decoded.stdout) as {
      header: Record<string, unknown>;
      claims: Record<string, unknown>;
    };
    assert.equal(header["alg"], "EdDSA");
    assert.equal(header["typ"], "at+jwt");
    assert.equal(claims["iss"], "gatehouse");
    assert.equal(typeof claims["sub"], "string");
    assert.equal((await cli(["token", "decode", "not-a-jwt"])).code, 1);

    const ok = await cli(["token", "verify", token, "--json"]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal((JSON.parse(ok.stdout) as { valid: boolean }).valid, true);
    const fromStdin = await cli(["token", "verify", "-", "--check-session"], { stdin: token });
    assert.equal(fromStdin.code, 0, fromStdin.stderr);
    assert.match(fromStdin.stdout, /^valid/);

    const [h, p, s] = token.split(".") as [string, string, string];
    const forged = JSON.parse(Buffer.from(p, "base64url").toString()) as Record<string, unknown>;
    forged["sub"] = "someone-else";
    const tampered = `${h}.${Buffer.from(JSON.stringify(forged)).toString("base64url")}.${s}`;
    const bad = await cli(["token", "verify", tampered]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^gatehouse: invalid token: /);
    assert.ok(!bad.stderr.includes(s), "the signature is not echoed");
    const badJson = await cli(["token", "verify", tampered, "--json"]);
    assert.equal(badJson.code, 1);
    assert.equal((JSON.parse(badJson.stdout) as { valid: boolean }).valid, false);
  });

  it("migrate is idempotent and keeps the data", async () => {
    for (let i = 0; i < 2; i++) {
      const run = await cli(["migrate"]);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /up to date/);
    }
    assert.equal((JSON.parse((await cli(["users", "list", "--json"])).stdout) as unknown[]).length, 2);
  });

  it("--database overrides DATABASE_URL", async () => {
    const other = `sqlite:${join(cwd, "other.db")}`;
    const run = await cli(["users", "list", "--json", "--database", other]);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), []);
  });

  it("doctor fails on COOKIE_SECURE=false and names it; passes a safe configuration", async () => {
    const unsafe = await cli(["doctor"], { env: { ...SAFE_SECRET_FREE_ENV, COOKIE_SECURE: "false" } });
    assert.equal(unsafe.code, 1, unsafe.stdout);
    assert.match(unsafe.stdout, /FAIL\s+COOKIE_SECURE/);

    const safe = await cli(["doctor", "--json"], { env: SAFE_SECRET_FREE_ENV });
    assert.equal(safe.code, 0, safe.stdout);
    const report = JSON.parse(safe.stdout) as { ok: boolean; findings: { setting: string; status: string }[] };
    assert.equal(report.ok, true);
    assert.equal(report.findings.find((f) => f.setting === "DATABASE_URL")?.status, "ok");

    const weakSecret = "secret";
    const several = await cli(["doctor"], {
      env: {
        ...SAFE_SECRET_FREE_ENV,
        ACCESS_TOKEN_SECRET: weakSecret,
        ALLOWED_ORIGINS: "http://app.example.com",
        PASSWORD_MIN_LENGTH: "8",
      },
    });
    assert.equal(several.code, 1);
    for (const name of ["ACCESS_TOKEN_SECRET", "ALLOWED_ORIGINS", "PASSWORD_MIN_LENGTH"])
      assert.match(several.stdout, new RegExp(`FAIL\\s+${name}`));

    const openRegistration = await cli(["doctor"], { env: { REGISTRATION: "open" } });
    assert.equal(openRegistration.code, 0, "open registration is a warning");
    assert.match(openRegistration.stdout, /warn\s+REGISTRATION/);
    assert.equal((await cli(["doctor", "--strict"], { env: { REGISTRATION: "open" } })).code, 1);

    const publicMetrics = await cli(["doctor"], { env: { ...SAFE_SECRET_FREE_ENV, METRICS: "public" } });
    assert.equal(publicMetrics.code, 0, "public metrics are a warning");
    assert.match(publicMetrics.stdout, /warn\s+METRICS: METRICS=public/);
    const strictMetrics = await cli(["doctor", "--strict"], { env: { ...SAFE_SECRET_FREE_ENV, METRICS: "public" } });
    assert.equal(strictMetrics.code, 1);

    const broken = await cli(["doctor"], { env: { ...SAFE_SECRET_FREE_ENV, DATABASE_URL: "mysql://db" } });
    assert.equal(broken.code, 1);
    assert.match(broken.stdout, /FAIL\s+configuration|FAIL\s+DATABASE_URL/);
  });
});
