import { Agent, request } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import type { LoadResult } from "./load.ts";

export interface PacedOptions {
  /** Full URL, path included. */
  url: string;
  /** Requests per second, spread evenly (not sent in one burst per second). */
  rate: number;
  seconds: number;
  /** Sockets kept alive; a request waits for a free one, and that wait counts as latency. */
  connections: number;
  /** Headers for the n-th request. */
  headersFor: (n: number) => Record<string, string>;
}

/**
 * An open-loop load: request n is due at start + n/rate, whether or not earlier ones have
 * answered, and its latency runs from when it was due to the end of its response. A server
 * stall therefore shows in full in the p99 (no coordinated omission). autocannon's own rate
 * option sends each second's quota in a burst, which measures its burst, not the server.
 */
export async function runPaced(options: PacedOptions): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: options.connections });
  const target = new URL(options.url);
  const intervalMs = 1000 / options.rate;
  const latenciesMs: number[] = [];
  let non2xx = 0;
  let errors = 0;
  const inFlight = new Set<Promise<void>>();

  const send = (n: number, dueAt: number) => {
    const done = new Promise<void>((resolve) => {
      const req = request(target, { agent, headers: options.headersFor(n) }, (res) => {
        res.resume();
        res.on("end", () => {
          latenciesMs.push(performance.now() - dueAt);
          if (res.statusCode === undefined || res.statusCode < 200 || res.statusCode > 299) non2xx++;
          resolve();
        });
      });
      req.on("error", () => {
        errors++;
        resolve();
      });
      req.end();
    });
    inFlight.add(done);
    void done.then(() => inFlight.delete(done));
  };

  const start = performance.now();
  const end = start + options.seconds * 1000;
  let sent = 0;
  for (let now = start; now < end; now = performance.now()) {
    const due = Math.min(Math.floor((now - start) / intervalMs) + 1, Math.ceil((options.seconds * 1000) / intervalMs));
    for (; sent < due; sent++) send(sent, start + sent * intervalMs);
    await sleep(1);
  }
  await Promise.all(inFlight);
  const seconds = (performance.now() - start) / 1000;
  agent.destroy();
  return { responses: latenciesMs.length, non2xx, errors, seconds, latenciesMs };
}
