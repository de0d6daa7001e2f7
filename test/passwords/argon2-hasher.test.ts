import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { hash as rawArgon2Hash } from "@node-rs/argon2";
import { type GatehouseOptions, resolveConfig } from "../../src/core/config.ts";
import { createArgon2Hasher } from "../../src/core/passwords/argon2-hasher.ts";
import { parseArgon2Phc } from "../../src/core/passwords/argon2-phc.ts";
import { AuthError } from "../../src/core/errors.ts";

const PASSWORD = "correct horse battery staple";
/** PHC of argon2id at OWASP defaults: 16-byte salt (22 chars) and 32-byte hash (43 chars), unpadded base64. */
const DEFAULT_PHC = /^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/;

/** A hasher from argon2 options, resolved (defaults, ranges, OWASP's minimums) the way createGatehouse does. */
function hasherWith(argon2: GatehouseOptions["argon2"] = {}) {
  const settings = resolveConfig({ argon2 }).argon2;
  return createArgon2Hasher(settings, settings);
}

describe("argon2id hasher", () => {
  const hasher = hasherWith();

  it("hashes to an argon2id PHC string with OWASP parameters and verifies the same password", async () => {
    const phc = await hasher.hash(PASSWORD);
    assert.match(phc, DEFAULT_PHC);
    assert.equal(await hasher.verify(phc, PASSWORD), true);
  });

  it("salts: the same password hashes differently each time, and both verify", async () => {
    const [a, b] = await Promise.all([hasher.hash(PASSWORD), hasher.hash(PASSWORD)]);
    assert.notEqual(a, b);
    assert.equal(await hasher.verify(a, PASSWORD), true);
    assert.equal(await hasher.verify(b, PASSWORD), true);
  });

  it("refuses a wrong password, including one differing only in case or by a trailing space", async () => {
    const phc = await hasher.hash(PASSWORD);
    for (const wrong of ["correct horse battery stapler", "Correct horse battery staple", `${PASSWORD} `, ""]) {
      assert.equal(await hasher.verify(phc, wrong), false, JSON.stringify(wrong));
    }
  });

  it("answers false, never throws, for malformed or foreign hashes", async () => {
    const good = await hasher.hash(PASSWORD);
    const malformed = [
      "",
      "not a hash",
      "$argon2id$",
      "$argon2id$v=19$m=19456,t=2,p=1$$",
      good.slice(0, -10),
      good.replace("$v=19$", "$v=nineteen$"),
      good.replace("m=19456", "m=-1"),
      good.replace("m=19456", "m=99999999999"),
      good.replace(/\$[^$]+$/, "$!!!!"),
      good.replace("argon2id", "argon2x"),
      `${good}$extra`,
      "$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
      "x".repeat(10_000),
    ];
    for (const phc of malformed) {
      assert.equal(await hasher.verify(phc, PASSWORD), false, phc.slice(0, 80));
    }
  });

  it("verifies by the parameters in the hash, so raising the cost keeps old hashes working", async () => {
    const phc = await hasher.hash(PASSWORD);
    const stronger = hasherWith({ timeCost: 3 });
    assert.equal(await stronger.verify(phc, PASSWORD), true);
  });

  it("needsRehash: false for its own hashes, true once parameters are raised", async () => {
    const phc = await hasher.hash(PASSWORD);
    assert.equal(hasher.needsRehash(phc), false);
    assert.equal(hasherWith({ timeCost: 3 }).needsRehash(phc), true);
    assert.equal(hasherWith({ memoryCost: 47_104 }).needsRehash(phc), true);
    assert.equal(hasherWith({ parallelism: 2 }).needsRehash(phc), true);
    // Each parameter is compared on its own: less memory than configured means rehash, even with more passes.
    assert.equal(hasherWith({ memoryCost: 47_104, timeCost: 1 }).needsRehash(phc), true);
    // A hash stronger than the current setting is kept.
    const strongerPhc = await hasherWith({ timeCost: 3 }).hash(PASSWORD);
    assert.equal(hasher.needsRehash(strongerPhc), false);
  });

  it("needsRehash: true for other argon2 variants, the old version, and junk", async () => {
    const argon2i = await rawArgon2Hash(PASSWORD, { memoryCost: 19_456, timeCost: 2, parallelism: 1, algorithm: 1 });
    assert.match(argon2i, /^\$argon2i\$/);
    assert.equal(hasher.needsRehash(argon2i), true);
    assert.equal(
      hasher.needsRehash("$argon2id$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNo"),
      true,
      "no v= means version 16",
    );
    assert.equal(hasher.needsRehash("$argon2id$v=19$m=4096,t=3,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNo"), true);
    assert.equal(hasher.needsRehash("$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"), true);
    assert.equal(hasher.needsRehash("garbage"), true);
  });

  it("verifyDummy always answers false, even for the password a caller might guess", async () => {
    for (const guess of [PASSWORD, "", "password"]) {
      assert.equal(await hasher.verifyDummy(guess), false);
    }
  });

  it("refuses parameters weaker than OWASP's minimum table, naming the option", () => {
    const weak: [GatehouseOptions["argon2"], string][] = [
      [{ memoryCost: 8_192 }, "argon2.memoryCost"],
      [{ memoryCost: 19_456, timeCost: 1 }, "argon2.memoryCost"],
      [{ memoryCost: 7_167, timeCost: 10 }, "argon2.memoryCost"],
      [{ timeCost: 0 }, "argon2.timeCost"],
      [{ timeCost: 2.5 }, "argon2.timeCost"],
      [{ parallelism: 0 }, "argon2.parallelism"],
      [{ memoryCost: Number.NaN }, "argon2.memoryCost"],
    ];
    for (const [params, option] of weak) {
      assert.throws(
        () => hasherWith(params),
        (error: unknown) =>
          error instanceof AuthError && error.code === "invalid_config" && error.message.includes(`"${option}"`),
        JSON.stringify(params),
      );
    }
  });

  it("accepts every row of OWASP's table and anything stronger", () => {
    const rows = [
      { memoryCost: 47_104, timeCost: 1 },
      { memoryCost: 19_456, timeCost: 2 },
      { memoryCost: 12_288, timeCost: 3 },
      { memoryCost: 9_216, timeCost: 4 },
      { memoryCost: 7_168, timeCost: 5 },
      { memoryCost: 65_536, timeCost: 3, parallelism: 4 },
    ];
    for (const row of rows) assert.doesNotThrow(() => hasherWith(row), JSON.stringify(row));
  });
});

describe("argon2 PHC parsing", () => {
  it("reads algorithm, version and parameters", () => {
    assert.deepEqual(parseArgon2Phc("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNo"), {
      algorithm: "argon2id",
      version: 19,
      memoryCost: 19_456,
      timeCost: 2,
      parallelism: 1,
    });
    assert.equal(parseArgon2Phc("$argon2i$m=4096,t=3,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNo")?.version, 16);
  });

  it("gives null for anything malformed", () => {
    for (const phc of [
      "",
      "argon2id$v=19$m=1,t=1,p=1$c2FsdA$aGFzaA",
      "$argon2id$v=19$m=1,t=1$c2FsdA$aGFzaA",
      "$argon2id$v=19$m=1,t=1,p=1,m=2$c2FsdA$aGFzaA",
      "$argon2id$v=19$m=01,t=1,p=1$c2FsdA$aGFzaA",
      "$argon2id$v=19$m=1,t=1,p=1$c2Fsd=A$aGFzaA",
      "$argon2id$v=19$m=1,t=1,p=1$c2FsdA",
      "$scrypt$v=19$m=1,t=1,p=1$c2FsdA$aGFzaA",
    ]) {
      assert.equal(parseArgon2Phc(phc), null, phc);
    }
  });
});
