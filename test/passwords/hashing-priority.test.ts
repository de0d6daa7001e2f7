import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { resolveConfig } from "../../src/core/config.ts";
import { createArgon2Hasher } from "../../src/core/passwords/argon2-hasher.ts";
import { HASHING_NICE } from "../../src/core/passwords/hashing-priority.ts";

interface ThreadStat {
  id: number;
  nice: number;
  /** User plus system CPU time, in clock ticks. */
  cpuTicks: number;
}

/** This process's threads from /proc (fields 14, 15 and 19 of proc_pid_stat(5)). */
function threads(): ThreadStat[] {
  return readdirSync("/proc/self/task").map((name) => {
    const fields = readFileSync(`/proc/self/task/${name}/stat`, "utf8").split(") ")[1]!.split(" ");
    return { id: Number(name), nice: Number(fields[16]), cpuTicks: Number(fields[11]) + Number(fields[12]) };
  });
}

/**
 * A login flood must not slow signed-in users' requests: argon2 runs on threads with a higher
 * nice value than the event loop, so the scheduler serves the loop first. Linux keeps a nice value
 * per thread, which is what this reads; other systems hash at the normal priority.
 */
describe("argon2 runs at a lower CPU priority than the event loop", { skip: !existsSync("/proc/self/task") }, () => {
  it(`hashes on threads at nice ${HASHING_NICE}; the main thread keeps its priority`, async () => {
    const { argon2 } = resolveConfig();
    const hasher = createArgon2Hasher(argon2, { ...argon2, maxConcurrent: 1 });
    try {
      await hasher.hash("start the hashing thread");
      const niced = () => threads().filter((thread) => thread.nice === HASHING_NICE);
      const before = niced();
      assert.equal(before.length, 1, "one hashing thread (maxConcurrent 1) at the lower priority");
      for (let n = 0; n < 8; n++)
        await hasher.verify(await hasher.hash(`password number ${n}`), `password number ${n}`);
      const after = niced().find((thread) => thread.id === before[0]!.id);
      assert.ok(after && after.cpuTicks > before[0]!.cpuTicks, "the hashes ran on that thread");
      const main = threads().find((thread) => thread.id === process.pid)!;
      assert.equal(main.nice, 0, "the event loop's thread keeps the normal priority");
    } finally {
      await hasher.close();
    }
  });
});
