import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { readEnvironment, resolveConfig } from "../../src/core/config.ts";
import { AuthError } from "../../src/core/errors.ts";
import { readEnvConfig } from "../../src/server/env-config.ts";

const STRONG_SECRET = "3f9a1c7e5b2d4f6081a3c5e7f9b1d3e5a7c9e1f3b5d7f9a1c3e5a7b9d1f3e5a7";

/** The messages of every problem `env` has. */
const problemsOf = (env: Record<string, string>) => readEnvironment(env).problems.map((problem) => problem.message);

describe("environment → settings", () => {
  it("an empty environment gives no options and the same config as resolveConfig()", () => {
    const reading = readEnvironment({});
    assert.deepEqual(reading.options, {});
    assert.deepEqual(reading.problems, []);
    assert.deepEqual(reading.config, resolveConfig());
    assert.deepEqual(
      { ...reading.server },
      {
        port: 3000,
        host: "localhost",
        logLevel: "info",
        trustProxy: 0,
        shutdownDrainSeconds: 5,
        shutdownTimeoutSeconds: 20,
      },
    );
  });

  it("maps every variable onto its option, and resolveConfig of those options gives the same config", () => {
    const env = {
      DATABASE_URL: "sqlite:/tmp/x.db",
      ISSUER: "https://auth.example.com",
      AUDIENCE: "orders",
      ACCESS_TOKEN_TTL: "10m",
      ACCESS_TOKEN_SECRET: STRONG_SECRET,
      JWT_ALGORITHM: "ES256",
      REFRESH_IDLE_TTL: "1d",
      REFRESH_ABSOLUTE_TTL: "14d",
      REFRESH_GRACE: "0",
      ALLOWED_ORIGINS: "https://app.example.com",
      COOKIE_NAME: "rt",
      COOKIE_SECURE: "false",
      REGISTRATION: "closed",
      PASSWORD_MIN_LENGTH: "12",
      PASSWORD_MAX_LENGTH: "128",
      BREACHED_PASSWORDS: "check",
      BREACHED_PASSWORDS_URL: "http://127.0.0.1:8080/range",
      LOGIN_MAX_ATTEMPTS: "5",
      LOGIN_MAX_ATTEMPTS_PER_IP: "50",
      LOGIN_WINDOW: "1h",
      BODY_LIMIT_BYTES: "32768",
      PORT: "8080",
      HOST: "0.0.0.0",
      LOG_LEVEL: "warn",
      TRUST_PROXY: "1",
      METRICS: "public",
      METRICS_TOKEN: "metrics-token-0123456789abcdef-0123456789",
      SHUTDOWN_DRAIN: "0",
      SHUTDOWN_TIMEOUT: "1m",
    };
    const reading = readEnvironment(env);
    assert.deepEqual(reading.problems, []);
    const limit = { windowSeconds: 3600, blockSeconds: 3600 };
    assert.deepEqual(reading.options, {
      database: "sqlite:/tmp/x.db",
      issuer: "https://auth.example.com",
      audience: "orders",
      accessTokenTtlSeconds: 600,
      accessTokenSecret: STRONG_SECRET,
      signingAlgorithm: "ES256",
      refreshIdleSeconds: 86_400,
      refreshAbsoluteSeconds: 14 * 86_400,
      refreshGraceSeconds: 0,
      allowedOrigins: ["https://app.example.com"],
      cookie: { name: "rt", secure: false },
      registrationOpen: false,
      password: { minLength: 12, maxLength: 128, breached: { mode: "check", url: "http://127.0.0.1:8080/range/" } },
      loginThrottle: { perAccountAndIp: { attempts: 5, ...limit }, perIp: { attempts: 50, ...limit } },
      bodyLimitBytes: 32_768,
      metrics: "public",
      metricsToken: "metrics-token-0123456789abcdef-0123456789",
    });
    assert.deepEqual(reading.config, resolveConfig(reading.options));
    assert.deepEqual(
      { ...reading.server },
      {
        port: 8080,
        host: "0.0.0.0",
        logLevel: "warn",
        trustProxy: 1,
        shutdownDrainSeconds: 0,
        shutdownTimeoutSeconds: 60,
      },
    );
    assert.deepEqual([...reading.set].sort(), Object.keys(env).sort());
  });

  it("reads durations as seconds or with a unit", () => {
    for (const [text, seconds] of [
      ["900", 900],
      ["30s", 30],
      ["15m", 900],
      ["1h", 3600],
      ["1d", 86_400],
      [" 2h ", 7200],
    ] as const) {
      assert.equal(readEnvironment({ ACCESS_TOKEN_TTL: text }).config.accessTokenTtlSeconds, seconds, text);
    }
    for (const text of ["15 minutes", "1.5h", "-5", "forever", "15M", "1w"]) {
      assert.deepEqual(
        problemsOf({ ACCESS_TOKEN_TTL: text }),
        [
          "ACCESS_TOKEN_TTL must be a duration like 900, 30s, 15m, 12h or 7d, from 1s to 1d " +
            `(got ${JSON.stringify(text)}).`,
        ],
        text,
      );
    }
  });

  it("reads booleans in the usual spellings, and REGISTRATION as open or closed", () => {
    for (const text of ["true", "TRUE", "1", "yes", "on"])
      assert.equal(readEnvironment({ COOKIE_SECURE: text }).config.cookie.secure, true, text);
    for (const text of ["false", "0", "no", "Off"])
      assert.equal(readEnvironment({ COOKIE_SECURE: text }).config.cookie.secure, false, text);
    assert.deepEqual(problemsOf({ COOKIE_SECURE: "open" }), ['COOKIE_SECURE must be true or false (got "open").']);
    assert.equal(readEnvironment({ REGISTRATION: "closed" }).config.registrationOpen, false);
    assert.equal(readEnvironment({ REGISTRATION: "Open" }).config.registrationOpen, true);
    assert.deepEqual(problemsOf({ REGISTRATION: "false" }), ['REGISTRATION must be open or closed (got "false").']);
  });

  it("reads ALLOWED_ORIGINS as a comma-separated list of origins, naming a bad entry", () => {
    const reading = readEnvironment({ ALLOWED_ORIGINS: " https://a.example.com/app , http://localhost:5173, " });
    assert.deepEqual(reading.config.allowedOrigins, ["https://a.example.com", "http://localhost:5173"]);
    assert.deepEqual(problemsOf({ ALLOWED_ORIGINS: "https://a.example.com,not a url" }), [
      'ALLOWED_ORIGINS must be a list of origins like https://app.example.com (bad entry "not a url").',
    ]);
  });

  it("takes the breached-password API only over https, or plain http to this machine", () => {
    assert.deepEqual(problemsOf({ BREACHED_PASSWORDS_URL: "http://range.example.com/range/" }), [
      "BREACHED_PASSWORDS_URL must use https:// (plain http:// is allowed only for 127.0.0.1, localhost or [::1]).",
    ]);
    assert.equal(
      readEnvironment({ BREACHED_PASSWORDS_URL: "https://mirror.example.com/range" }).config.password.breached.url,
      "https://mirror.example.com/range/",
    );
    assert.deepEqual(problemsOf({ BREACHED_PASSWORDS: "on" }), [
      'BREACHED_PASSWORDS must be one of off, check, required (got "on").',
    ]);
  });

  it("takes enumerations exactly as listed", () => {
    assert.equal(readEnvironment({ LOG_LEVEL: "debug" }).server.logLevel, "debug");
    assert.deepEqual(problemsOf({ LOG_LEVEL: "loud" }), [
      'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent (got "loud").',
    ]);
    assert.deepEqual(problemsOf({ JWT_ALGORITHM: "RS256" }), [
      'JWT_ALGORITHM must be one of EdDSA, ES256 (got "RS256").',
    ]);
  });

  it("treats blank variables as unset and ignores variables it does not know", () => {
    const reading = readEnvironment({
      PORT: "",
      ACCESS_TOKEN_TTL: "   ",
      ACCESS_TOKEN_SECRET: "",
      GATEHOUSE_TYPO: "1",
      PATH: "/usr/bin",
    });
    assert.deepEqual(reading.problems, []);
    assert.deepEqual(reading.options, {});
    assert.equal(reading.server.port, 3000);
    assert.equal(reading.set.size, 0);
  });

  it("LOGIN_WINDOW sets every window and block, within the range all four accept", () => {
    const { loginThrottle } = readEnvironment({ LOGIN_WINDOW: "30m" }).config;
    assert.deepEqual(loginThrottle, {
      perAccountAndIp: { attempts: 10, windowSeconds: 1800, blockSeconds: 1800 },
      perIp: { attempts: 100, windowSeconds: 1800, blockSeconds: 1800 },
    });
    // windowSeconds allows 7 days in code, blockSeconds 1 day: one variable for both accepts 1 s to 1 day.
    assert.deepEqual(problemsOf({ LOGIN_WINDOW: "2d" }), [
      'LOGIN_WINDOW must be a duration like 900, 30s, 15m, 12h or 7d, from 1s to 1d (got "2d").',
    ]);
  });

  it("names variables in rules between settings too", () => {
    assert.deepEqual(problemsOf({ PASSWORD_MAX_LENGTH: "10" }), [
      "PASSWORD_MAX_LENGTH (10) must be at least PASSWORD_MIN_LENGTH (15).",
    ]);
    assert.deepEqual(problemsOf({ REFRESH_IDLE_TTL: "60d" }), [
      "REFRESH_IDLE_TTL (5184000) must not exceed REFRESH_ABSOLUTE_TTL (2592000).",
    ]);
  });

  it("never echoes a secret or a database URL", () => {
    const [secretProblem] = problemsOf({ ACCESS_TOKEN_SECRET: "hunter2hunter2" });
    assert.match(secretProblem!, /^ACCESS_TOKEN_SECRET is too short/);
    assert.ok(!secretProblem!.includes("hunter2"));
    const url = `postgres://admin:hunter2@db.example.com/${"x".repeat(4100)}`;
    assert.deepEqual(problemsOf({ DATABASE_URL: url }), ["DATABASE_URL must be text of 1 to 4096 characters."]);
  });

  it("lists every bad variable, and each bad one keeps its default", () => {
    const reading = readEnvironment({
      PORT: "eighty",
      ACCESS_TOKEN_TTL: "forever",
      ISSUER: "ok",
      REGISTRATION: "maybe",
    });
    assert.deepEqual(
      reading.problems.map((problem) => problem.setting),
      ["ACCESS_TOKEN_TTL", "REGISTRATION", "PORT"],
    );
    assert.equal(reading.config.accessTokenTtlSeconds, 900);
    assert.equal(reading.config.issuer, "ok");
    assert.equal(reading.server.port, 3000);
  });
});

describe("readEnvConfig (the server's start-up)", () => {
  it("throws the first problem as invalid_config naming the variable", () => {
    assert.throws(
      () => readEnvConfig({ TRUST_PROXY: "11", PORT: "x" }),
      (error: unknown) =>
        error instanceof AuthError &&
        error.code === "invalid_config" &&
        error.message === 'PORT must be a whole number from 0 to 65535 (got "x").',
    );
  });

  it("returns the server settings, the options to pass on, and the config they resolve to", () => {
    const settings = readEnvConfig({ PORT: "0", TRUST_PROXY: "2", PASSWORD_MIN_LENGTH: "20" });
    assert.equal(settings.port, 0);
    assert.equal(settings.trustProxy, 2);
    assert.deepEqual(settings.options, { password: { minLength: 20 } });
    assert.equal(settings.config.password.minLength, 20);
    assert.equal(settings.config.database, "sqlite:./data/gatehouse.db");
  });
});
