import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { AuthError } from "../../src/core/errors.ts";
import { throttleUsername } from "../../src/core/throttle/throttle-keys.ts";
import * as usernames from "../../src/core/users/username.ts";
import { usernameKey as storeUsernameKey } from "../../src/store/username-key.ts";

const { normalizeUsername } = usernames;

/** The registration check: `validateNewUsername` once it exists, else today's `normalizeUsername`. */
const validate = (raw: string): string => {
  const named = (usernames as Record<string, unknown>)["validateNewUsername"];
  return typeof named === "function" ? (named as (raw: string) => string)(raw) : normalizeUsername(raw);
};

function refused(raw: string, rule: RegExp, what: string): void {
  assert.throws(
    () => validate(raw),
    (error: unknown) => {
      assert.ok(error instanceof AuthError, `${what}: AuthError`);
      assert.equal(error.code, "invalid_request", what);
      assert.match(error.message, rule, what);
      return true;
    },
    what,
  );
}

describe("usernames: accepted", () => {
  it("accepts names in one writing system, with digits and . _ @ + -", () => {
    const names = [
      "alice",
      "Alice.Smith",
      "user_01",
      "alice@example.com",
      "a-b+c",
      "josé",
      "Müller",
      "Иван",
      "Ελένη",
      "李小龙",
      "김철수",
      "たなか",
      "ヤマダ",
      "محمد",
      "דוד",
      "สมชาย",
      "राहुल",
      "Иван_1990",
    ];
    for (const name of names) assert.equal(validate(name), name, name);
  });

  it("accepts the combinations UTS #39 allows with Latin: Japanese, Chinese (Bopomofo) and Korean", () => {
    for (const name of ["山田taro", "東京タワー2024", "ひらがなカタカナ漢字", "ㄅㄆ中文abc", "서울seoul"]) {
      assert.equal(validate(name), name, name);
    }
  });

  it("normalises with NFKC and trims, so full-width and composed forms are one name", () => {
    assert.equal(validate("  Ａｌｉｃｅ  "), "Alice");
    assert.equal(validate("jose\u0301"), "josé");
  });
});

describe("usernames: invisible and default-ignorable code points are refused", () => {
  const invisible: [string, string][] = [
    ["ali\u200Bce", "zero-width space"],
    ["ali\u200Cce", "zero-width non-joiner"],
    ["ali\u200Dce", "zero-width joiner"],
    ["ali\u2060ce", "word joiner"],
    ["ali\u00ADce", "soft hyphen"],
    ["ali\u034Fce", "combining grapheme joiner"],
    ["alice\uFE0F", "variation selector 16"],
    ["alice\u{E0101}", "variation selector 18"],
    ["alice\u3164", "Hangul filler"],
    ["alice\uFFA0", "half-width Hangul filler"],
    ["\u115Falice", "Hangul choseong filler"],
    ["ali\u180Bce", "Mongolian free variation selector"],
    ["ali\u17B4ce", "Khmer inherent vowel"],
    ["alice\u{E0061}", "tag character"],
    ["\u202Eecila", "right-to-left override"],
    ["alice\u200E", "left-to-right mark"],
    ["ali\u2066ce\u2069", "isolates"],
    ["ali\u061Cce", "Arabic letter mark"],
  ];
  for (const [name, what] of invisible) {
    it(`refuses ${what}`, () => refused(name, /invisible/, what));
  }
});

describe("usernames: mixed-script lookalikes are refused (UTS #39 highly restrictive)", () => {
  it("refuses Latin mixed with Cyrillic: pаypal (Cyrillic а) is not paypal", () => {
    assert.equal(validate("paypal"), "paypal");
    refused("p\u0430ypal", /writing systems/, "Cyrillic а inside Latin");
    refused("\u0430lice", /writing systems/, "Cyrillic а first");
    refused("Иванov", /writing systems/, "Cyrillic then Latin");
  });

  it("refuses Latin mixed with Greek, Armenian or Cherokee lookalikes", () => {
    refused("g\u03BFogle", /writing systems/, "Greek omicron");
    refused("\u0581oogle", /writing systems/, "Armenian ց");
    refused("\u13A0avid", /writing systems/, "Cherokee Ꭰ");
  });

  it("refuses other mixtures too: Cyrillic with Greek, Han with Cyrillic, Hangul with Hiragana", () => {
    refused("Ив\u03B1н", /writing systems/, "Cyrillic and Greek");
    refused("李Иван", /writing systems/, "Han and Cyrillic");
    refused("서울たなか", /writing systems/, "Hangul and Hiragana");
  });

  it("refuses all-Cyrillic or all-Greek names made only of letters that look Latin", () => {
    refused("\u0440\u0430\u0443\u0440\u0430\u04CF", /look like Latin/, "раураӏ (all Cyrillic paypal)");
    refused("\u0441\u043E\u0441\u043E", /look like Latin/, "сосо (all Cyrillic coco)");
    refused("\u039D\u0395\u039F", /look like Latin/, "ΝΕΟ (all Greek NEO)");
    assert.equal(validate("Борис"), "Борис", "a Cyrillic name with letters unlike Latin ones");
  });

  it("refuses stacked combining marks", () => {
    refused("zal\u0301\u0301go", /marks/, "one mark repeated");
    refused("za\u0300\u0301\u0302\u0303\u0304\u0305lgo", /marks/, "six different marks on one letter");
    refused("\u0301alice", /marks/, "a mark with nothing to sit on");
  });
});

describe("usernames: one normalisation everywhere", () => {
  it("the store's lookup key and the throttle's account key are the same function of the name", () => {
    for (const raw of ["Alice", "  ALICE ", "Ａｌｉｃｅ", "josé", "jose\u0301", "Иван", "ǅemal", "ß-straße"]) {
      assert.equal(storeUsernameKey(normalizeUsername(raw)), throttleUsername(raw), raw);
      assert.equal(storeUsernameKey(raw), storeUsernameKey(normalizeUsername(raw)), `${raw}: raw and normalised agree`);
    }
    assert.equal(storeUsernameKey("Ａｌｉｃｅ"), storeUsernameKey("alice"));
  });

  it("no module outside src/core/users/username.ts normalises usernames itself", () => {
    const src = fileURLToPath(new URL("../../src/", import.meta.url));
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (entry.name.endsWith(".ts")) {
          const file = relative(src, path).replaceAll("\\", "/");
          // Passwords are normalised by the password policy; usernames only by the username module.
          if (file === "core/users/username.ts" || file === "core/passwords/password-policy.ts") continue;
          if (readFileSync(path, "utf8").includes('.normalize("NFKC")')) offenders.push(file);
        }
      }
    };
    walk(src);
    assert.deepEqual(offenders, []);
  });
});
