/**
 * Worker-thread entry of the argon2 pool (argon2-pool.ts): computes one hash or verification
 * per message, synchronously on this thread, which runs at a lower CPU priority than the event
 * loop where the operating system allows it.
 */
import { readlinkSync } from "node:fs";
import { setPriority } from "node:os";
import { hashSync, verifySync } from "@node-rs/argon2";
import { serveRequests } from "../workers/serve-requests.ts";
import type { Argon2Work } from "./argon2-messages.ts";
import { HASHING_NICE } from "./hashing-priority.ts";

/**
 * Linux keeps a nice value per thread, and /proc/thread-self names this one; elsewhere the value
 * is per process, so nothing is changed (lowering it would slow the event loop too).
 */
function lowerThisThreadsPriority(): void {
  try {
    const threadId = Number(readlinkSync("/proc/thread-self").split("/").pop());
    if (Number.isInteger(threadId) && threadId > 0 && threadId !== process.pid) setPriority(threadId, HASHING_NICE);
  } catch {
    // No /proc (not Linux) or not permitted: hash at the normal priority.
  }
}

lowerThisThreadsPriority();
serveRequests((work: Argon2Work) =>
  work.op === "hash" ? hashSync(work.password, work.options) : verifySync(work.phc, work.password),
);
