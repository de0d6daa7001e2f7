/**
 * Worker-thread entry of the argon2 pool (argon2-pool.ts): computes one hash or verification
 * per message, synchronously on this thread, which runs at a lower CPU priority than the event
 * loop where the operating system allows it.
 */
import { readlinkSync } from "node:fs";
import { setPriority } from "node:os";
import { parentPort } from "node:worker_threads";
import { hashSync, verifySync } from "@node-rs/argon2";
import type { Argon2Reply, Argon2Request } from "./argon2-messages.ts";
import { HASHING_NICE } from "./hashing-priority.ts";

const port = parentPort;
if (port === null) throw new Error("argon2-worker.ts runs only as a worker thread.");

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
port.on("message", (request: Argon2Request) => {
  let reply: Argon2Reply;
  try {
    const result =
      request.op === "hash" ? hashSync(request.password, request.options) : verifySync(request.phc, request.password);
    reply = { id: request.id, result };
  } catch (error) {
    reply = { id: request.id, error: error instanceof Error ? error.message : String(error) };
  }
  port.postMessage(reply);
});
