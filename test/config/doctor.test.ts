import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { readEnvironment } from "../../src/core/config.ts";
import { checkSettings, settingsInForce } from "../../src/cli/doctor-checks.ts";
import { readEnvConfig } from "../../src/server/env-config.ts";
import { runCli } from "../helpers/cli.ts";

const SAFE = { COOKIE_SECURE: "true", REGISTRATION: "closed" };

describe("doctor reads settings through the same table as the server", () => {
  it("reports every bad variable by name, with the server's own message", () => {
    const env = { ...SAFE, ACCESS_TOKEN_TTL: "0", PASSWORD_MAX_LENGTH: "abc", ACCESS_TOKEN_SECRET: "secret" };
    const { findings } = checkSettings(env);
    const failures = findings.filter((finding) => finding.status === "fail");
    assert.deepEqual(
      failures.map((finding) => finding.setting),
      ["ACCESS_TOKEN_TTL", "ACCESS_TOKEN_SECRET", "PASSWORD_MAX_LENGTH"],
    );
    assert.throws(() => readEnvConfig(env), { message: failures[0]!.message });
    assert.ok(!JSON.stringify(findings).includes('"secret"'), "the secret is not echoed");
    assert.ok(
      !findings.some((finding) => finding.setting === "JWT_ALGORITHM"),
      "no 'asymmetric signing' line when the secret was refused",
    );
  });

  it("catches rules between settings, which the server would refuse too", () => {
    const env = { ...SAFE, PASSWORD_MIN_LENGTH: "20", PASSWORD_MAX_LENGTH: "16" };
    const failure = checkSettings(env).findings.find((finding) => finding.status === "fail");
    assert.deepEqual(failure, {
      setting: "PASSWORD_MAX_LENGTH",
      status: "fail",
      message: "PASSWORD_MAX_LENGTH (16) must be at least PASSWORD_MIN_LENGTH (20).",
    });
    assert.throws(() => readEnvConfig(env), { message: failure!.message });
  });

  it("judges the values in force: defaults where unset, the environment's where set", () => {
    const lines = (env: Record<string, string>) =>
      Object.fromEntries(checkSettings(env).findings.map((finding) => [finding.setting, finding.status]));
    assert.deepEqual(lines(SAFE), {
      COOKIE_SECURE: "ok",
      JWT_ALGORITHM: "ok",
      REGISTRATION: "ok",
      ALLOWED_ORIGINS: "ok",
      PASSWORD_MIN_LENGTH: "ok",
      METRICS: "ok",
    });
    assert.equal(lines({ ...SAFE, PASSWORD_MIN_LENGTH: "14", PASSWORD_MAX_LENGTH: "64" }).PASSWORD_MIN_LENGTH, "fail");
    assert.equal(lines({ ...SAFE, COOKIE_SECURE: "off" }).COOKIE_SECURE, "fail");
    assert.equal(lines({ COOKIE_SECURE: "true" }).REGISTRATION, "warn");
    assert.equal(lines({ ...SAFE, METRICS: "public" }).METRICS, "warn");
    assert.equal(lines({ ...SAFE, METRICS_TOKEN: "x".repeat(40) }).METRICS, "ok");
  });

  it("lists every variable with the value the server would use and where it came from", () => {
    const env = {
      LOGIN_WINDOW: "1h",
      ACCESS_TOKEN_SECRET: "3f9a1c7e5b2d4f6081a3c5e7f9b1d3e5a7c9e1f3b5d7f9a1c3e5a7b9d1f3e5a7",
      PORT: "bad",
    };
    const reading = readEnvironment(env);
    const listed = Object.fromEntries(settingsInForce(reading).map((s) => [s.variable, s]));
    assert.deepEqual(listed["LOGIN_WINDOW"], { variable: "LOGIN_WINDOW", value: "1h", source: "environment" });
    assert.deepEqual(listed["ACCESS_TOKEN_TTL"], { variable: "ACCESS_TOKEN_TTL", value: "15m", source: "default" });
    assert.deepEqual(listed["ACCESS_TOKEN_SECRET"], {
      variable: "ACCESS_TOKEN_SECRET",
      value: "set (not shown)",
      source: "environment",
    });
    assert.deepEqual(listed["DATABASE_URL"], {
      variable: "DATABASE_URL",
      value: "sqlite:./data/gatehouse.db",
      source: "default",
    });
    assert.deepEqual(
      listed["PORT"],
      { variable: "PORT", value: "3000", source: "default" },
      "a refused value is not in force",
    );
    assert.deepEqual(listed["REGISTRATION"], { variable: "REGISTRATION", value: "open", source: "default" });
  });
});

describe("the gatehouse command uses the same values", () => {
  const cwd = mkdtempSync(join(tmpdir(), "gatehouse-config-cli-"));
  after(() => rmSync(cwd, { recursive: true, force: true }));

  const cli = (args: string[], env: Record<string, string>) =>
    runCli(args, { cwd, env: { DATABASE_URL: `sqlite:${join(cwd, "cli.db")}`, ...env } });

  it("doctor --json reports the settings readEnvironment resolves and fails a bad one the same way", async () => {
    const env = { ...SAFE, LOGIN_WINDOW: "1h", PASSWORD_MIN_LENGTH: "20", ACCESS_TOKEN_TTL: "0" };
    const run = await cli(["doctor", "--json"], env);
    assert.equal(run.code, 1, run.stderr);
    const report = JSON.parse(run.stdout) as {
      ok: boolean;
      findings: { setting: string; status: string; message: string }[];
      settings: unknown;
    };
    const reading = readEnvironment({ ...env, DATABASE_URL: `sqlite:${join(cwd, "cli.db")}` });
    assert.deepEqual(report.settings, settingsInForce(reading));
    const ttl = report.findings.find((finding) => finding.setting === "ACCESS_TOKEN_TTL");
    assert.deepEqual(ttl, { setting: "ACCESS_TOKEN_TTL", status: "fail", message: reading.problems[0]!.message });
  });

  it("doctor --settings prints each variable's value in force", async () => {
    const run = await cli(["doctor", "--settings"], { ...SAFE, REFRESH_GRACE: "10s" });
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /^REFRESH_GRACE=10s {2}\(environment\)$/m);
    assert.match(run.stdout, /^REFRESH_IDLE_TTL=7d {2}\(default\)$/m);
  });

  it("keys rotate takes --publish-ahead's default and range from the table", async () => {
    const help = await cli(["keys", "rotate", "--help"], SAFE);
    assert.match(help.stdout, /--publish-ahead <duration>.*\(0–30d\).*\(default: "1h"\)/s);
    const bad = await cli(["keys", "rotate", "--publish-ahead", "-1"], SAFE);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(
      bad.stderr,
      /--publish-ahead must be a duration like 900, 30s, 15m, 12h or 7d, from 0 to 30d \(got "-1"\)/,
    );
  });
});
