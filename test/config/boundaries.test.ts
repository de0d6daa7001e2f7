import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CLI_SETTINGS, OPTION_SETTINGS, readEnvironment, resolveConfig, variableOf } from "../../src/core/config.ts";
import { VARIABLES } from "../../src/core/config/environment.ts";
import { flagValue } from "../../src/core/config/flags.ts";
import { entriesOf, valueAt } from "../../src/core/config/setting.ts";
import { AuthError } from "../../src/core/errors.ts";

/**
 * Every range boundary of every numeric setting, generated from the settings table: min and
 * max are accepted, min − 1 and max + 1 refused with a message naming the setting the way it
 * was given — through options and through the environment.
 */

const DAY = 86_400;

/**
 * Other settings a boundary value needs to pass the cross-field rules (a 1024-character minimum
 * needs a maximum of at least that, one pass of argon2 needs 46 MiB, …).
 */
function partners(path: string): [string, number][] {
  switch (path) {
    case "password.minLength":
      return [["password.maxLength", 1024]];
    case "password.maxLength":
      return [["password.minLength", 8]];
    case "refreshIdleSeconds":
      return [["refreshAbsoluteSeconds", 366 * DAY]];
    case "refreshAbsoluteSeconds":
      return [["refreshIdleSeconds", 60]];
    case "argon2.timeCost":
      return [["argon2.memoryCost", 47_104]];
    case "argon2.memoryCost":
      return [["argon2.timeCost", 5]];
    case "outbox.retryBaseSeconds":
      return [["outbox.retryMaxSeconds", DAY]];
    case "outbox.retryMaxSeconds":
      return [["outbox.retryBaseSeconds", 1]];
    default:
      return [];
  }
}

function optionsWith(pairs: [string, unknown][]): Record<string, unknown> {
  const options: Record<string, unknown> = {};
  for (const [path, value] of pairs) {
    const keys = path.split(".");
    let node = options;
    for (const key of keys.slice(0, -1)) node = (node[key] ??= {}) as Record<string, unknown>;
    node[keys.at(-1)!] = value;
  }
  return options;
}

const resolve = (options: Record<string, unknown>) => resolveConfig(options as never);

function refusedNaming(name: string) {
  return (error: unknown) =>
    error instanceof AuthError && error.code === "invalid_config" && error.message.includes(name);
}

const numericOptions = entriesOf(OPTION_SETTINGS).filter((entry) => entry.setting.kind.range !== undefined);
const numericVariables = VARIABLES.filter((variable) => variable.kind.range !== undefined);

describe("settings table: every numeric option's range, through options", () => {
  it("has numeric settings to test", () => assert.ok(numericOptions.length >= 20, String(numericOptions.length)));

  for (const { path, setting } of numericOptions) {
    const { min, max } = setting.kind.range!;
    it(`${path}: ${min} and ${max} accepted; ${min - 1}, ${max + 1} and ${min + 0.5} refused naming "${path}"`, () => {
      for (const value of [min, max]) {
        const config = resolve(optionsWith([...partners(path), [path, value]]));
        assert.equal(valueAt(config, path), value, `${path} = ${value}`);
      }
      for (const value of [min - 1, max + 1, min + 0.5]) {
        assert.throws(
          () => resolve(optionsWith([...partners(path), [path, value]])),
          (error: unknown) =>
            refusedNaming(`Gatehouse option "${path}" must be`)(error) &&
            (error as Error).message.includes(`(got ${value})`),
          `${path} = ${value}`,
        );
      }
    });
  }
});

describe("settings table: every numeric variable's range, through the environment", () => {
  it("has numeric variables to test, the server's included", () => {
    const names = numericVariables.map((variable) => variable.name);
    for (const name of [
      "PORT",
      "TRUST_PROXY",
      "LOGIN_WINDOW",
      "LOGIN_MAX_ATTEMPTS",
      "PASSWORD_MIN_LENGTH",
      "ACCESS_TOKEN_TTL",
    ]) {
      assert.ok(names.includes(name), name);
    }
  });

  for (const variable of numericVariables) {
    const { min, max } = variable.kind.range!;
    const envFor = (value: number): Record<string, string> => {
      const env: Record<string, string> = {};
      for (const [path, partner] of variable.entries.flatMap((entry) => partners(entry.path))) {
        env[variableOf(path)!] = String(partner);
      }
      env[variable.name] = String(value);
      return env;
    };

    it(`${variable.name}: ${min} and ${max} accepted; ${min - 1}, ${max + 1} and "ten" refused, naming it`, () => {
      for (const value of [min, max]) {
        const reading = readEnvironment(envFor(value));
        assert.deepEqual(reading.problems, [], `${variable.name}=${value}`);
        for (const { path } of variable.entries) {
          const resolved = variable.target === "server" ? reading.server : reading.config;
          assert.equal(valueAt(resolved, path), value, `${variable.name}=${value} → ${path}`);
        }
      }
      for (const text of [String(min - 1), String(max + 1), "ten"]) {
        const reading = readEnvironment({ ...envFor(min), [variable.name]: text });
        const problem = reading.problems[0];
        assert.equal(reading.problems.length, 1, `${variable.name}=${text}: ${JSON.stringify(reading.problems)}`);
        assert.equal(problem?.setting, variable.name);
        assert.ok(problem?.message.startsWith(`${variable.name} must be`), problem?.message);
        assert.ok(problem?.message.includes(`(got "${text}")`), problem?.message);
        assert.ok(!problem?.message.includes("Gatehouse option"), problem?.message);
      }
    });
  }
});

describe("settings table: command-line flags", () => {
  it("keys rotate --publish-ahead: 0 and 30d accepted, -1 and 30d + 1 s refused naming the flag", () => {
    const setting = CLI_SETTINGS.publishAheadSeconds;
    const { min, max } = setting.kind.range!;
    assert.equal(flagValue(setting, "--publish-ahead", String(min)), min);
    assert.equal(flagValue(setting, "--publish-ahead", String(max)), max);
    assert.equal(flagValue(setting, "--publish-ahead", "30d"), max);
    assert.equal(flagValue(setting, "--publish-ahead", undefined), 3600);
    for (const text of [String(min - 1), String(max + 1), "soon"]) {
      assert.throws(
        () => flagValue(setting, "--publish-ahead", text),
        refusedNaming(`--publish-ahead must be a duration`),
        text,
      );
    }
  });
});
