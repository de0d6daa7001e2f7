import assert from "node:assert/strict";
import { availableParallelism } from "node:os";
import { describe, it } from "node:test";
import { ManualClock, systemClock } from "../../src/core/clock.ts";
import { type GatehouseOptions, resolveConfig } from "../../src/core/config.ts";
import { AuthError } from "../../src/core/errors.ts";
import { createGatehouse } from "../../src/gatehouse.ts";

const STRONG_SECRET = "3f9a1c7e5b2d4f6081a3c5e7f9b1d3e5a7c9e1f3b5d7f9a1c3e5a7b9d1f3e5a7";

/** Asserts resolveConfig refuses `options` with invalid_config and returns the message. */
function refusal(options: unknown): string {
  try {
    resolveConfig(options as GatehouseOptions);
  } catch (error) {
    assert.ok(error instanceof AuthError, String(error));
    assert.equal(error.code, "invalid_config");
    return error.message;
  }
  return assert.fail(`accepted ${JSON.stringify(options)}`);
}

describe("resolveConfig: defaults", () => {
  it("fills every setting with the documented default", () => {
    const config = resolveConfig();
    assert.deepEqual(
      { ...config, clock: undefined },
      {
        database: "sqlite:./data/gatehouse.db",
        publicUrl: "http://localhost:3000",
        email: {
          verification: "optional",
          smtpUrl: undefined,
          from: "Gatehouse <no-reply@localhost>",
          outboxDir: "./data/outbox",
          requestsPerAddressPerHour: 5,
          requestsPerIpPerHour: 30,
        },
        issuer: "gatehouse",
        audience: "gatehouse",
        accessTokenTtlSeconds: 900,
        clockToleranceSeconds: 60,
        accessTokenSecret: undefined,
        introspectionToken: undefined,
        keyEncryptionKey: undefined,
        signingAlgorithm: "EdDSA",
        refreshIdleSeconds: 7 * 86_400,
        refreshAbsoluteSeconds: 30 * 86_400,
        refreshGraceSeconds: 5,
        allowedOrigins: [],
        cookie: { name: "gatehouse_refresh", path: undefined, secure: true },
        registrationOpen: true,
        password: {
          minLength: 15,
          maxLength: 256,
          breached: { mode: "off", url: "https://api.pwnedpasswords.com/range/", timeoutMs: 2000 },
        },
        argon2: {
          memoryCost: 19_456,
          timeCost: 2,
          parallelism: 1,
          maxConcurrent: Math.max(1, availableParallelism() - 1),
          maxQueued: 256,
          maxPerAddress: 2,
        },
        loginThrottle: {
          perAccountAndIp: { attempts: 10, windowSeconds: 900, blockSeconds: 900 },
          perIp: { attempts: 100, windowSeconds: 900, blockSeconds: 900 },
        },
        loginRate: {
          perIp: { attempts: 60, windowSeconds: 60 },
          perAccount: { attempts: 100, windowSeconds: 900 },
        },
        maxSessionsPerUser: 100,
        sessionPruneIntervalSeconds: 3600,
        sessionRetentionSeconds: 7 * 86_400,
        registrationsPerIpPerHour: 20,
        bodyLimitBytes: 16_384,
        verifyCacheSize: 10_000,
        metrics: "off",
        metricsToken: undefined,
        auditRetentionSeconds: 90 * 86_400,
        webhook: { url: undefined, secret: undefined, timeoutSeconds: 10 },
        outbox: { retryBaseSeconds: 5, retryMaxSeconds: 3600, maxAttempts: 20 },
        realm: "gatehouse",
        clock: undefined,
      },
    );
    assert.equal(config.clock, systemClock);
  });

  it("keeps what is given and defaults only the rest, in nested groups too", () => {
    const config = resolveConfig({ loginThrottle: { perIp: { attempts: 50 } }, cookie: { secure: false } });
    assert.deepEqual(config.loginThrottle.perIp, { attempts: 50, windowSeconds: 900, blockSeconds: 900 });
    assert.deepEqual(config.loginThrottle.perAccountAndIp, { attempts: 10, windowSeconds: 900, blockSeconds: 900 });
    assert.deepEqual(config.cookie, { name: "gatehouse_refresh", path: undefined, secure: false });
  });

  it("returns a frozen plain object, but keeps a given clock as it is (a ManualClock must still move)", () => {
    const clock = new ManualClock(1_000);
    const config = resolveConfig({ clock, allowedOrigins: ["https://app.example.com"] });
    for (const part of [
      config,
      config.cookie,
      config.password,
      config.argon2,
      config.loginThrottle,
      config.loginThrottle.perIp,
      config.allowedOrigins,
    ]) {
      assert.ok(Object.isFrozen(part));
    }
    assert.equal(config.clock, clock);
    clock.advance(500);
    assert.equal(config.clock.now(), 1_500);
  });

  it("does not change or keep the options object it was given", () => {
    const options = { allowedOrigins: ["https://app.example.com/path"], password: { minLength: 20 } };
    const config = resolveConfig(options);
    assert.deepEqual(options, { allowedOrigins: ["https://app.example.com/path"], password: { minLength: 20 } });
    options.allowedOrigins.push("https://other.example.com");
    assert.deepEqual(config.allowedOrigins, ["https://app.example.com"]);
  });
});

describe("resolveConfig: refusals name the option path", () => {
  it("refuses unknown options, at the top and inside groups, listing the known ones", () => {
    assert.equal(
      refusal({ issuers: "x" }).startsWith('Unknown Gatehouse option "issuers" (known here: database, issuer,'),
      true,
    );
    assert.equal(
      refusal({ cookie: { domain: "example.com" } }),
      'Unknown Gatehouse option "cookie.domain" (known here: name, path, secure).',
    );
    assert.match(
      refusal({ loginThrottle: { perIp: { attemps: 5 } } }),
      /^Unknown Gatehouse option "loginThrottle\.perIp\.attemps"/,
    );
  });

  it("refuses a group or the options that are not objects", () => {
    assert.equal(refusal({ cookie: "secure" }), 'Gatehouse option "cookie" must be an object.');
    assert.equal(
      refusal({ loginThrottle: { perIp: [] } }),
      'Gatehouse option "loginThrottle.perIp" must be an object.',
    );
    assert.equal(refusal(42), "Gatehouse options must be an object.");
  });

  it("refuses wrong types, saying what is expected and what was given", () => {
    assert.equal(
      refusal({ accessTokenTtlSeconds: "900" }),
      'Gatehouse option "accessTokenTtlSeconds" must be a whole number of seconds from 1 to 86400 (got "900").',
    );
    assert.equal(
      refusal({ cookie: { secure: "false" } }),
      'Gatehouse option "cookie.secure" must be true or false (got "false").',
    );
    assert.equal(
      refusal({ signingAlgorithm: "RS256" }),
      'Gatehouse option "signingAlgorithm" must be one of EdDSA, ES256 (got "RS256").',
    );
    assert.equal(
      refusal({ argon2: { timeCost: Number.NaN } }),
      'Gatehouse option "argon2.timeCost" must be a whole number from 1 to 100 (got NaN).',
    );
    assert.equal(refusal({ issuer: "" }), 'Gatehouse option "issuer" must be text of 1 to 512 characters (got "").');
    assert.equal(
      refusal({ clock: { now: 5 } }),
      'Gatehouse option "clock" must be an object with a now() method (got an object).',
    );
  });

  it("checks text shapes: cookie name and path, realm, origins", () => {
    assert.match(
      refusal({ cookie: { name: "refresh token" } }),
      /^Gatehouse option "cookie\.name" must be 1 to 64 letters, digits, _ and -/,
    );
    assert.match(refusal({ cookie: { name: "a".repeat(65) } }), /^Gatehouse option "cookie\.name"/);
    assert.match(
      refusal({ cookie: { path: "auth" } }),
      /^Gatehouse option "cookie\.path" must be a path starting with \//,
    );
    assert.match(refusal({ realm: 'a"b' }), /^Gatehouse option "realm" must be printable ASCII/);
    assert.equal(
      refusal({ allowedOrigins: ["https://ok.example.com", "ftp://files.example.com"] }),
      'Gatehouse option "allowedOrigins" must be a list of origins like https://app.example.com ' +
        '(bad entry "ftp://files.example.com").',
    );
    assert.deepEqual(
      resolveConfig({ allowedOrigins: ["https://App.Example.com:443/x?y", "http://localhost:5173"] }).allowedOrigins,
      ["https://app.example.com", "http://localhost:5173"],
    );
  });

  it("never echoes a secret or a database URL", () => {
    const weak = "changeme-changeme-changeme-changeme-1";
    const message = refusal({ accessTokenSecret: weak });
    assert.match(message, /^Gatehouse option "accessTokenSecret" looks like a placeholder/);
    assert.ok(!message.includes(weak));
    assert.equal(refusal({ database: 12 }), 'Gatehouse option "database" must be text of 1 to 4096 characters.');
    assert.equal(resolveConfig({ accessTokenSecret: STRONG_SECRET }).accessTokenSecret, STRONG_SECRET);
  });
});

describe("resolveConfig: rules between settings", () => {
  it("password.maxLength must be at least password.minLength; equal is fine", () => {
    assert.equal(
      refusal({ password: { maxLength: 10 } }),
      'Gatehouse option "password.maxLength" (10) must be at least password.minLength (15).',
    );
    assert.equal(
      refusal({ password: { minLength: 300 } }),
      'Gatehouse option "password.maxLength" (256) must be at least password.minLength (300).',
    );
    const { minLength, maxLength } = resolveConfig({ password: { minLength: 20, maxLength: 20 } }).password;
    assert.deepEqual({ minLength, maxLength }, { minLength: 20, maxLength: 20 });
  });

  it("refreshIdleSeconds must not exceed refreshAbsoluteSeconds; equal is fine", () => {
    assert.equal(
      refusal({ refreshAbsoluteSeconds: 3600 }),
      'Gatehouse option "refreshIdleSeconds" (604800) must not exceed refreshAbsoluteSeconds (3600).',
    );
    assert.equal(resolveConfig({ refreshIdleSeconds: 3600, refreshAbsoluteSeconds: 3600 }).refreshIdleSeconds, 3600);
  });

  it("argon2 costs must reach a row of OWASP's minimum table", () => {
    for (const row of [
      { memoryCost: 47_104, timeCost: 1 },
      { memoryCost: 19_456, timeCost: 2 },
      { memoryCost: 12_288, timeCost: 3 },
      { memoryCost: 9_216, timeCost: 4 },
      { memoryCost: 7_168, timeCost: 5 },
    ]) {
      assert.doesNotThrow(() => resolveConfig({ argon2: row }), JSON.stringify(row));
      // Below the last row, memoryCost's own range (from 7168) already refuses.
      const below =
        /^Gatehouse option "argon2\.memoryCost" (\(\d+ KiB\) is weaker than OWASP|must be a whole number from 7168)/;
      assert.match(refusal({ argon2: { ...row, memoryCost: row.memoryCost - 1 } }), below);
    }
    assert.equal(
      refusal({ argon2: { timeCost: 1 } }),
      'Gatehouse option "argon2.memoryCost" (19456 KiB) is weaker than OWASP\'s minimum for argon2.timeCost 1 ' +
        "(47104 KiB). Raise it, or raise argon2.timeCost (5 passes need 7168 KiB).",
    );
  });

  it("reports a setting's own range before any rule that involves it", () => {
    assert.match(
      refusal({ password: { minLength: 2000, maxLength: 10 } }),
      /^Gatehouse option "password\.minLength" must be a whole number from 8 to 1024/,
    );
  });
});

describe("createGatehouse goes through the same resolution", () => {
  it("refuses a bad option before opening any database, naming it", async () => {
    await assert.rejects(createGatehouse({ database: "sqlite::memory:", realm: 'a"b' }), /Gatehouse option "realm"/);
    await assert.rejects(
      createGatehouse({ database: "sqlite::memory:", bogus: true } as GatehouseOptions),
      /Unknown Gatehouse option "bogus"/,
    );
  });

  it("exposes the resolved config it runs with, realm included", async () => {
    const auth = await createGatehouse({
      database: "sqlite::memory:",
      realm: "orders-api",
      password: { minLength: 12 },
    });
    try {
      assert.deepEqual(
        auth.config,
        resolveConfig({ database: "sqlite::memory:", realm: "orders-api", password: { minLength: 12 } }),
      );
    } finally {
      await auth.close();
    }
  });
});
