import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createArgon2Hasher } from "../../src/core/passwords/argon2-hasher.ts";
import { createGatehouse } from "../../src/gatehouse.ts";
import { createLogger } from "../../src/logging/logger.ts";
import { STRONG_PASSWORD } from "../helpers/http.ts";
import { runCli } from "../helpers/cli.ts";

/**
 * What a terminal would act on: C0 controls other than the line feed that ends each line,
 * DEL, C1 controls (0x9B is a one-byte CSI), and the Unicode bidi controls that reorder what
 * is shown (Trojan Source).
 */
function firstTerminalControl(text: string): number | undefined {
  const bidi = [0x061c, 0x200e, 0x200f, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069];
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if ((code < 0x20 && code !== 0x0a) || (code >= 0x7f && code <= 0x9f) || bidi.includes(code)) return code;
  }
  return undefined;
}

/** Text a remote party controls, full of sequences a terminal would obey. */
const HOSTILE = {
  clearScreen: "\u001b[2J",
  osc52: "\u001b]52;c;ZWNobyBwd25lZA==\u0007",
  csi8bit: "\u009b31m",
  del: "x\u007fy",
  bidi: "\u202eexe.txt",
  isolate: "\u2066ab\u2069",
};

function assertNoTerminalControls(text: string, what: string): void {
  const found = firstTerminalControl(text);
  assert.equal(found, undefined, `${what} printed U+${found?.toString(16).padStart(4, "0")}: ${JSON.stringify(text)}`);
}

const segment = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

describe("the CLI escapes control characters in everything it prints", () => {
  const cwd = mkdtempSync(join(tmpdir(), "gatehouse-cli-escape-"));
  const database = `sqlite:${join(cwd, "cli.db")}`;
  const hostileName = `eve${HOSTILE.clearScreen}${HOSTILE.bidi}`;
  after(() => rmSync(cwd, { recursive: true, force: true }));

  const cli = (args: string[]) => runCli(args, { cwd, env: { DATABASE_URL: database } });

  before(async () => {
    // A name and a user agent as they could be in the database: written before today's rules,
    // or arriving from any HTTP client.
    const auth = await createGatehouse({ database, logger: createLogger({ level: "silent" }) });
    try {
      await auth.store.insertUser({
        id: randomUUID(),
        username: hostileName,
        passwordHash: await createArgon2Hasher(auth.config.argon2, auth.config.argon2).hash(STRONG_PASSWORD),
        createdAt: Date.now(),
        disabledAt: null,
        roles: [],
      });
      const caller = { ip: "203.0.113.5", userAgent: Object.values(HOSTILE).join(" ") };
      await auth.service.login(hostileName, STRONG_PASSWORD, caller);
    } finally {
      await auth.close();
    }
  });

  it("token decode: claim names and values from the token are escaped, in text and in JSON", async () => {
    const header = { alg: "EdDSA", [HOSTILE.clearScreen]: HOSTILE.osc52 };
    const claims = {
      sub: HOSTILE.osc52,
      [HOSTILE.csi8bit]: 1,
      [HOSTILE.bidi]: HOSTILE.del,
      [HOSTILE.isolate]: [HOSTILE.isolate],
    };
    const token = `${segment(header)}.${segment(claims)}.c2ln`;

    const text = await cli(["token", "decode", token]);
    assert.equal(text.code, 0, text.stderr);
    assertNoTerminalControls(text.stdout, "token decode");
    assert.match(text.stdout, /\\x1b\[2J/, "the escape is shown, not dropped");
    assert.match(text.stdout, /\\u202e/);

    const json = await cli(["token", "decode", "--json", token]);
    assert.equal(json.code, 0, json.stderr);
    assertNoTerminalControls(json.stdout, "token decode --json");
    assert.deepEqual(JSON.parse(json.stdout), { header, claims }, "JSON stays exact: only the spelling changes");
  });

  it("users list and sessions list: usernames and user agents are escaped", async () => {
    const runs: [string[], RegExp][] = [
      [["users", "list"], /eve\\x1b\[2J\\u202eexe/],
      [["users", "list", "--json"], /eve\\u001b\[2J\\u202eexe/],
      [["sessions", "list", hostileName], /203\.0\.113\.5 +\\x1b\[2J \\x1b\]52/],
      [["sessions", "list", "--json", hostileName], /\\u009b31m/],
    ];
    for (const [args, shown] of runs) {
      const run = await cli(args);
      assert.equal(run.code, 0, `${args.join(" ")}: ${run.stderr}`);
      assertNoTerminalControls(run.stdout, args.join(" "));
      assert.match(run.stdout, shown, args.join(" "));
    }
    const listed = await cli(["sessions", "list", "--json", hostileName]);
    const sessions = JSON.parse(listed.stdout) as { userAgent: string }[];
    assert.equal(sessions[0]?.userAgent, Object.values(HOSTILE).join(" "), "the JSON still carries the exact value");
  });

  it("error messages on stderr are escaped too", async () => {
    const run = await cli(["users", "disable", `nobody${HOSTILE.osc52}${HOSTILE.csi8bit}`]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^gatehouse: /);
    assertNoTerminalControls(run.stderr, "users disable <unknown>");
    const usage = await cli([`bogus${HOSTILE.clearScreen}`]);
    assert.equal(usage.code, 2);
    assertNoTerminalControls(usage.stderr, "unknown command");
  });
});
