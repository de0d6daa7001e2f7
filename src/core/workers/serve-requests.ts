import { parentPort } from "node:worker_threads";
import type { WorkReply, WorkRequest } from "./worker-messages.ts";

/**
 * The body of a worker-pool thread (worker-pool.ts): answers each request with `handle`'s
 * result, or with its error's message, one at a time and in order.
 */
export function serveRequests<W, R>(handle: (work: W) => R): void {
  const port = parentPort;
  if (port === null) throw new Error("This module runs only as a worker thread.");
  port.on("message", ({ id, work }: WorkRequest<W>) => {
    let reply: WorkReply<R>;
    try {
      reply = { id, result: handle(work) };
    } catch (error) {
      reply = { id, error: error instanceof Error ? error.message : String(error) };
    }
    port.postMessage(reply);
  });
}
