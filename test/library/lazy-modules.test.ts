import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const SCRIPT = fileURLToPath(new URL("./fixtures/heap-after-login.ts", import.meta.url));
const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/**
 * Every module in the main heap lengthens each full garbage collection, a pause every request
 * waits through. nodemailer (about 3 MB) and @simplewebauthn/server (about 4.5 MB) load on the
 * first mail and the first passkey ceremony, not at start-up: a server that registers and logs
 * in a user with neither has not loaded them, so loading them afterwards still grows the heap.
 */
describe("modules loaded on first use", () => {
  it("a server that sent no mail and saw no passkey has loaded neither nodemailer nor @simplewebauthn/server", () => {
    const output = execFileSync(process.execPath, ["--expose-gc", "--import", "tsx", SCRIPT], {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 60_000,
    });
    const { beforeMb, afterMb } = JSON.parse(output.trim().split("\n").at(-1)!) as {
      beforeMb: number;
      afterMb: number;
    };
    assert.ok(afterMb - beforeMb > 4, `loading both afterwards grew the heap by only ${afterMb - beforeMb} MB`);
  });
});
