import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AuthError } from "../../src/core/errors.ts";
import { getCommonPasswords } from "../../src/core/passwords/common-passwords.ts";
import { createPasswordPolicy, DEFAULT_PASSWORD_POLICY, normalizePassword } from "../../src/core/passwords/password-policy.ts";

const policy = createPasswordPolicy();
const user = { username: "alice" };

/** Asserts `check` refuses with invalid_password, a message matching `rule`, and no echo of the password. */
function assertRefused(password: string, rule: RegExp, context = user, p = policy): void {
  assert.throws(
    () => p.check(password, context),
    (error: unknown) => {
      assert.ok(error instanceof AuthError, "AuthError");
      assert.equal(error.code, "invalid_password");
      assert.match(error.message, rule);
      assert.ok(!error.message.includes(password), "message must not contain the password");
      return true;
    },
    JSON.stringify(password),
  );
}

describe("password policy: length", () => {
  it("defaults to 15–256 characters", () => {
    assert.deepEqual({ ...policy.options }, { minLength: 15, maxLength: 256 });
    assert.deepEqual({ ...DEFAULT_PASSWORD_POLICY }, { minLength: 15, maxLength: 256 });
  });

  it("refuses 14 characters and accepts 15", () => {
    assertRefused("kettle-on-mars", /^Password must be at least 15 characters\.$/);
    assert.doesNotThrow(() => policy.check("kettle-on-mars!", user));
  });

  it("accepts 256 characters and refuses 257", () => {
    const long = "correct horse battery staple ".repeat(10);
    assert.doesNotThrow(() => policy.check(long.slice(0, 256), user));
    assertRefused(long.slice(0, 257), /^Password must be at most 256 characters\.$/);
  });

  it("counts code points, not UTF-16 units: 14 emoji are 28 units but 14 characters", () => {
    const emoji = "🍎🍌🍇🍉🍓🍒🍑🍍🥝🥥🥑🍆🥕🌽";
    assert.equal(emoji.length, 28);
    assertRefused(emoji, /at least 15 characters/);
    assert.doesNotThrow(() => policy.check(`${emoji}🥔`, user));
  });

  it("counts after NFKC: letters with combining accents compose to one character each", () => {
    const decomposed = (letters: string) => [...letters].map((c) => `${c}\u0301`).join("");
    const fourteen = decomposed("aeiouycnszrlgk");
    assert.equal([...fourteen].length, 28, "28 code points before normalisation");
    assertRefused(fourteen, /at least 15 characters/);
    assert.doesNotThrow(() => policy.check(decomposed("aeiouycnszrlgkm"), user), "15 composed characters");
  });

  it("honours custom limits", () => {
    const custom = createPasswordPolicy({ minLength: 8, maxLength: 20 });
    assert.doesNotThrow(() => custom.check("blue-gnu", user));
    assertRefused("blue-gn", /at least 8 characters/, user, custom);
    assertRefused("x".repeat(10) + "y".repeat(11), /at most 20 characters/, user, custom);
  });
});

describe("password policy: content", () => {
  it("has no composition rules: lower-case words with spaces pass", () => {
    assert.doesNotThrow(() => policy.check("correct horse battery staple", user));
    assert.doesNotThrow(() => policy.check("ÜBERMUTIGE KATZEN SCHLAFEN", user));
  });

  it("refuses a password equal to or containing the username, ignoring case", () => {
    assertRefused("alice-in-wonderland-1865", /username/, user);
    assertRefused("ALICE-in-wonderland-1865", /username/, user);
    assertRefused("mountainclimber", /^Password must not contain the username\.$/, { username: "MountainClimber" });
    assertRefused("bobbybobbybobby-1234", /username/, { username: "bobbybobbybobby" });
  });

  it("compares the username after NFKC on both sides", () => {
    assertRefused("ａｌｉｃｅ-in-wonderland-1865", /username/, user);
    assertRefused("alice-in-wonderland-1865", /username/, { username: "Ａｌｉｃｅ" });
  });

  it("ignores usernames shorter than 3 characters", () => {
    assert.doesNotThrow(() => policy.check("ab-normal-passphrase", { username: "ab" }));
  });

  it("refuses passwords on the common/breached list, in any case", () => {
    const common = getCommonPasswords();
    for (const entry of ["qwerty123456789", "1qaz2wsx3edc4rfv", "passwordstandard"]) {
      assert.ok(common.has(entry), `${entry} is on the list`);
      for (const variant of [entry, entry.toUpperCase(), entry[0]!.toUpperCase() + entry.slice(1)]) {
        assertRefused(variant, /^Password is on a list of common or breached passwords\./);
      }
    }
  });

  it("matches the list after NFKC: fullwidth letters are the same password", () => {
    const fullwidth = "ｑｗｅｒｔｙ１２３４５６７８９";
    assert.equal(normalizePassword(fullwidth), "qwerty123456789");
    assertRefused(fullwidth, /common or breached/);
  });

  it("with minLength 8, short list entries are refused too", () => {
    const short = createPasswordPolicy({ minLength: 8 });
    for (const entry of ["password", "football", "letmein1"]) {
      assert.ok(getCommonPasswords().has(entry), `${entry} is on the list`);
      assertRefused(entry.toUpperCase(), /common or breached/, user, short);
    }
  });

  it("refuses one character or a short group repeated", () => {
    assertRefused("a".repeat(20), /repeated/);
    assertRefused("abcabcabcabcabc", /repeated/);
    assertRefused("1234123412341234", /repeated/);
    assertRefused("🙂".repeat(16), /repeated/);
  });

  it("refuses a common word repeated", () => {
    assertRefused("dragondragondragon", /repeated/);
    assertRefused("IloveyouIloveyou", /repeated/);
  });

  it("accepts a long phrase that merely repeats a non-trivial group", () => {
    assert.doesNotThrow(() => policy.check("tulip-saxophone-".repeat(2), user));
  });
});

describe("password policy: normalisation", () => {
  it("normalizePassword applies NFKC", () => {
    assert.equal(normalizePassword("ｐａｓｓ"), "pass");
    assert.equal(normalizePassword("e\u0301"), "é");
    assert.equal(normalizePassword("ﬁ"), "fi");
    assert.equal(normalizePassword(" spaces stay "), " spaces stay ");
  });
});

describe("password policy: options", () => {
  it("refuses invalid options once, at creation, naming the option", () => {
    const cases: [Parameters<typeof createPasswordPolicy>[0], string][] = [
      [{ minLength: 7 }, "password.minLength"],
      [{ minLength: 0 }, "password.minLength"],
      [{ minLength: 15.5 }, "password.minLength"],
      [{ maxLength: 1025 }, "password.maxLength"],
      [{ minLength: 20, maxLength: 16 }, "password.maxLength"],
      [{ maxLength: 10 }, "password.maxLength"],
    ];
    for (const [options, name] of cases) {
      assert.throws(
        () => createPasswordPolicy(options),
        (error: unknown) => error instanceof AuthError && error.code === "invalid_config" && error.message.includes(`"${name}"`),
        JSON.stringify(options),
      );
    }
  });

  it("accepts the extremes: 8 and 1024", () => {
    assert.deepEqual({ ...createPasswordPolicy({ minLength: 8, maxLength: 8 }).options }, { minLength: 8, maxLength: 8 });
    assert.deepEqual({ ...createPasswordPolicy({ maxLength: 1024 }).options }, { minLength: 15, maxLength: 1024 });
  });
});
