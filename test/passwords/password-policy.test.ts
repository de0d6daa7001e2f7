import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type GatehouseOptions, resolveConfig } from "../../src/core/config.ts";
import { AuthError } from "../../src/core/errors.ts";
import { getCommonPasswords } from "../../src/core/passwords/common-passwords.ts";
import { createPasswordPolicy, normalizePassword } from "../../src/core/passwords/password-policy.ts";

/** A policy from password options, resolved (defaults, ranges) the way createGatehouse does. */
const policyWith = (password: GatehouseOptions["password"] = {}) =>
  createPasswordPolicy(resolveConfig({ password }).password);
const policy = policyWith();
const user = { username: "alice" };

/** Asserts `check` refuses with invalid_password, a message matching `rule`, and no echo of the password. */
async function assertRefused(password: string, rule: RegExp, context = user, p = policy): Promise<void> {
  await assert.rejects(
    async () => p.check(password, context),
    (error: unknown) => {
      assert.ok(error instanceof AuthError, `${JSON.stringify(password)}: AuthError`);
      assert.equal(error.code, "invalid_password");
      assert.match(error.message, rule, JSON.stringify(password));
      assert.ok(!error.message.includes(password), "message must not contain the password");
      return true;
    },
    JSON.stringify(password),
  );
}

async function assertAccepted(password: string, context = user, p = policy): Promise<void> {
  await assert.doesNotReject(async () => p.check(password, context), JSON.stringify(password));
}

const lengths = (p: { options: { minLength: number; maxLength: number } }) => ({
  minLength: p.options.minLength,
  maxLength: p.options.maxLength,
});

describe("password policy: length", () => {
  it("defaults to 15–256 characters", () => {
    assert.deepEqual(lengths(policy), { minLength: 15, maxLength: 256 });
    assert.deepEqual(lengths({ options: resolveConfig().password }), { minLength: 15, maxLength: 256 });
  });

  it("refuses 14 characters and accepts 15", async () => {
    await assertRefused("kettle-on-mars", /^Password must be at least 15 characters\.$/);
    await assertAccepted("kettle-on-mars!");
  });

  it("accepts 256 characters and refuses 257", async () => {
    const long = "correct horse battery staple ".repeat(10);
    await assertAccepted(long.slice(0, 256));
    await assertRefused(long.slice(0, 257), /^Password must be at most 256 characters\.$/);
  });

  it("counts code points, not UTF-16 units: 14 emoji are 28 units but 14 characters", async () => {
    const emoji = "🍎🍌🍇🍉🍓🍒🍑🍍🥝🥥🥑🍆🥕🌽";
    assert.equal(emoji.length, 28);
    await assertRefused(emoji, /at least 15 characters/);
    await assertAccepted(`${emoji}🥔`);
  });

  it("counts after NFKC: letters with combining accents compose to one character each", async () => {
    const decomposed = (letters: string) => [...letters].map((c) => `${c}\u0301`).join("");
    const fourteen = decomposed("aeiouycnszrlgk");
    assert.equal([...fourteen].length, 28, "28 code points before normalisation");
    await assertRefused(fourteen, /at least 15 characters/);
    await assertAccepted(decomposed("aeiouycnszrlgkm"));
  });

  it("honours custom limits", async () => {
    const custom = policyWith({ minLength: 8, maxLength: 20 });
    await assertAccepted("Vq7#mZ2k", user, custom);
    await assertRefused("Vq7#mZ2", /at least 8 characters/, user, custom);
    await assertRefused("x".repeat(10) + "y".repeat(11), /at most 20 characters/, user, custom);
  });
});

describe("password policy: content", () => {
  it("has no composition rules: lower-case words with spaces pass", async () => {
    await assertAccepted("correct horse battery staple");
    await assertAccepted("ÜBERMUTIGE KATZEN SCHLAFEN");
  });

  it("refuses a password equal to or containing the username, ignoring case", async () => {
    await assertRefused("alice-in-wonderland-1865", /username/, user);
    await assertRefused("ALICE-in-wonderland-1865", /username/, user);
    const mountain = { username: "MountainClimber" };
    await assertRefused("mountainclimber", /^Password must not contain the username\.$/, mountain);
    await assertRefused("bobbybobbybobby-1234", /username/, { username: "bobbybobbybobby" });
  });

  it("compares the username after NFKC on both sides", async () => {
    await assertRefused("ａｌｉｃｅ-in-wonderland-1865", /username/, user);
    await assertRefused("alice-in-wonderland-1865", /username/, { username: "Ａｌｉｃｅ" });
  });

  it("ignores usernames shorter than 3 characters", async () => {
    await assertAccepted("ab-normal-passphrase", { username: "ab" });
  });

  it("refuses passwords on the common/breached list, in any case", async () => {
    const common = getCommonPasswords();
    for (const entry of ["qwerty123456789", "1qaz2wsx3edc4rfv", "passwordstandard"]) {
      assert.ok(common.has(entry), `${entry} is on the list`);
      for (const variant of [entry, entry.toUpperCase(), entry[0]!.toUpperCase() + entry.slice(1)]) {
        await assertRefused(variant, /^Password is on a list of common or breached passwords\./);
      }
    }
  });

  it("matches the list after NFKC: fullwidth letters are the same password", async () => {
    const fullwidth = "ｑｗｅｒｔｙ１２３４５６７８９";
    assert.equal(normalizePassword(fullwidth), "qwerty123456789");
    await assertRefused(fullwidth, /common or breached/);
  });

  it("with minLength 8, short list entries are refused too", async () => {
    const short = policyWith({ minLength: 8 });
    for (const entry of ["password", "football", "letmein1"]) {
      assert.ok(getCommonPasswords().has(entry), `${entry} is on the list`);
      await assertRefused(entry.toUpperCase(), /common or breached/, user, short);
    }
  });

  it("refuses one character or a short group repeated", async () => {
    await assertRefused("a".repeat(20), /repeated/);
    await assertRefused("abcabcabcabcabc", /repeated/);
    await assertRefused("1234123412341234", /repeated/);
    await assertRefused("🙂".repeat(16), /repeated/);
  });

  it("refuses a common word repeated", async () => {
    await assertRefused("dragondragondragon", /repeated/);
    await assertRefused("IloveyouIloveyou", /repeated/);
  });

  it("accepts a long phrase that merely repeats a non-trivial group", async () => {
    await assertAccepted("tulip-saxophone-".repeat(2));
  });
});

/**
 * Long weak passwords: none of these is on the common list, all are 15+ characters, and each is
 * guessed quickly by a cracker that tries sequences, keyboard walks, repeats and words with digits.
 */
const GUESSABLE: readonly [password: string, kind: string][] = [
  ["123456789012345", "numeric run"],
  ["1234567890123456789", "numeric run"],
  ["098765432109876", "numeric run, descending"],
  ["147258369147258", "keypad walk"],
  ["11111111111111112222", "repeated characters with a tail"],
  ["abcdefghijklmnopq", "alphabet run"],
  ["zyxwvutsrqponmlk", "alphabet run, descending"],
  ["qwertyuiopasdfgh", "keyboard walk"],
  ["asdfghjklqwertyuiop", "keyboard walk"],
  ["zxcvbnmasdfghjkl", "keyboard walk"],
  ["qazwsxedcrfvtgby", "keyboard walk in columns"],
  ["1qaz2wsx3edc4rfv5tgb", "keyboard walk in columns with digits"],
  ["1q2w3e4r5t6y7u8i9o", "keyboard walk, alternating rows"],
  ["!@#$%^&*()_+!@#$", "shifted number row"],
  ["password12345678", "common word padded with digits"],
  ["football123456789", "common word padded with digits"],
  ["iloveyou12345678", "common phrase padded with digits"],
  ["monkey1234567890", "common word padded with digits"],
  ["qwerty123456789!", "keyboard word, digits and a symbol"],
  ["correcthorse12345", "two words and a run"],
  ["Password1234567!", "capitalised word, run, symbol"],
  ["sunshine2024sunshine", "word, year, word"],
  ["summer2023summer", "word, year, word"],
  ["Summer2024!Summer", "word, year, symbol, word"],
  ["passwordpassword1", "a word twice and a digit"],
  ["letmein!letmein!1", "a phrase twice and a digit"],
  ["monkey!monkey!monkey", "a word three times"],
  ["abcd1234abcd1234x", "a pattern twice and a letter"],
  ["P@ssw0rd!2345678", "l33t word and a run"],
  ["p455w0rd12345678", "l33t word and a run"],
  ["$unsh1ne12345678", "l33t word and a run"],
  ["1l0v3y0u1l0v3y0u!", "l33t phrase twice"],
  ["mountainclimber", "two common words"],
  ["purple dishwasher", "two common words"],
];

/** Passphrases and random strings people are told to use: no composition rule stands in their way. */
const STRONG: readonly string[] = [
  "correct horse battery staple",
  "correct horse battery staple 42",
  "plinth otter vellum 42 lantern",
  "an entirely different passphrase 7",
  "kettle-on-mars!",
  "blue gnu eats kiwi",
  "purple monkey dishwasher",
  "sleepy-otter-92!",
  "my cat likes tuna",
  "Hund Katze Maus 7",
  "mango-telescope-river-42",
  "river stone cloud light",
  "ÜBERMUTIGE KATZEN SCHLAFEN",
  "xkqzvbnwplrtmsd",
  "vx8#kQ2!mZ9pL4w",
];

/** A small seeded generator (mulberry32), so the "random" examples are the same on every run. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("password policy: structure (long weak passwords)", () => {
  it("none of the guessable examples is on the common list, so the list alone would let them in", () => {
    for (const [password] of GUESSABLE) assert.ok(!getCommonPasswords().has(password.toLowerCase()), password);
  });

  for (const [password, kind] of GUESSABLE) {
    it(`refuses ${kind}: ${JSON.stringify(password)}`, async () => {
      await assertRefused(password, /^Password is too easy to guess: it .+\. .+\.$/);
    });
  }

  it("refuses the username hidden with look-alike digits", async () => {
    await assertRefused("al1ce1234567890", /too easy to guess/);
  });

  it("accepts passphrases and random strings", async () => {
    for (const password of STRONG) await assertAccepted(password);
  });

  it("accepts 40 random 15-letter strings (seeded)", async () => {
    const random = seeded(20240601);
    const letters = "abcdefghijklmnopqrstuvwxyz";
    for (let i = 0; i < 40; i++) {
      const password = Array.from({ length: 15 }, () => letters[Math.floor(random() * 26)]).join("");
      await assertAccepted(password);
    }
  });

  it("judges a long password by its first 64 characters: a weak start is refused, a strong one is enough", async () => {
    const strongStart = "plinth otter vellum 42 lantern ".repeat(3).slice(0, 64);
    await assertAccepted(strongStart + "1".repeat(150));
    await assertRefused("1234567890".repeat(7).slice(0, 64) + "vx8#kQ2!mZ9pL4w", /first 64 characters/);
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
    const cases: [GatehouseOptions["password"], string][] = [
      [{ minLength: 7 }, "password.minLength"],
      [{ minLength: 0 }, "password.minLength"],
      [{ minLength: 15.5 }, "password.minLength"],
      [{ maxLength: 1025 }, "password.maxLength"],
      [{ minLength: 20, maxLength: 16 }, "password.maxLength"],
      [{ maxLength: 10 }, "password.maxLength"],
    ];
    for (const [options, name] of cases) {
      assert.throws(
        () => policyWith(options),
        (error: unknown) =>
          error instanceof AuthError && error.code === "invalid_config" && error.message.includes(`"${name}"`),
        JSON.stringify(options),
      );
    }
  });

  it("accepts the extremes: 8 and 1024", () => {
    assert.deepEqual(lengths(policyWith({ minLength: 8, maxLength: 8 })), { minLength: 8, maxLength: 8 });
    assert.deepEqual(lengths(policyWith({ maxLength: 1024 })), { minLength: 15, maxLength: 1024 });
  });
});
