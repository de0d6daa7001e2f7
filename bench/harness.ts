import { performance } from "node:perf_hooks";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/** One thing being timed. `run(i)` does a single operation; `i` lets it cycle through inputs. */
export interface Contender {
  name: string;
  run: (i: number) => unknown;
  /** Await each call (jose's API is async): measured the way a user would call it. */
  async?: boolean;
}

export interface MicroOptions {
  /** Untimed run per contender first, so the JIT and caches settle. */
  warmupMs: number;
  /** Timed rounds per contender; the median is reported. */
  rounds: number;
  /** Length of each timed round. */
  roundMs: number;
}

/** How many sync calls run between two clock reads: few enough for slow contenders, many enough to hide the clock. */
const SYNC_BATCH = 32;

/**
 * A young-generation GC before every timed turn, so no contender pays for the short-lived
 * garbage another left behind. Not a full GC: frequent full GCs age out the bytecode of
 * contenders waiting for their turn, which then re-compile on the clock. `npm run bench`
 * does not pass --expose-gc, so the flag is switched on here.
 */
const collectGarbage: () => void = (() => {
  let gc = globalThis.gc;
  if (typeof gc !== "function") {
    setFlagsFromString("--expose-gc");
    gc = runInNewContext("gc") as NodeJS.GCFunction;
  }
  const collect = gc;
  return () => collect({ type: "minor" });
})();

/** Something the optimiser cannot prove unused. */
let sink = 0;

/** Keeps results alive so a contender's work is never optimised away. */
function consume(value: unknown): void {
  if (value !== undefined && value !== null) sink = (sink + 1) | 0;
}

async function timeFor(
  contender: Contender,
  ms: number,
  start: number,
): Promise<{ ops: number; elapsedMs: number; next: number }> {
  let i = start;
  const began = performance.now();
  const until = began + ms;
  let now = began;
  if (contender.async) {
    while (now < until) {
      consume(await contender.run(i++));
      now = performance.now();
    }
  } else {
    while (now < until) {
      for (let n = 0; n < SYNC_BATCH; n++) consume(contender.run(i++));
      now = performance.now();
    }
  }
  return { ops: i - start, elapsedMs: now - began, next: i };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Round r's running order: rotated by r, and reversed every other round, so no contender always follows the same one. */
export function orderForRound<T>(items: readonly T[], round: number): T[] {
  const rotated = items.map((_, k) => items[(round + k) % items.length]!);
  return round % 2 === 1 ? rotated.reverse() : rotated;
}

/**
 * Times every contender in the same process, taking turns: round r runs each contender
 * once, in a different order each round and after a minor GC, so background noise and GC
 * pauses fall on all of them alike. Returns the median ops/s per contender name.
 */
export async function compareInterleaved(
  contenders: readonly Contender[],
  options: MicroOptions,
): Promise<Map<string, number>> {
  const cursor = new Map<string, number>(contenders.map((c) => [c.name, 0]));
  for (const contender of contenders) {
    const { next } = await timeFor(contender, options.warmupMs, 0);
    cursor.set(contender.name, next);
  }
  const samples = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
  for (let round = 0; round < options.rounds; round++) {
    for (const contender of orderForRound(contenders, round)) {
      collectGarbage();
      const { ops, elapsedMs, next } = await timeFor(contender, options.roundMs, cursor.get(contender.name)!);
      cursor.set(contender.name, next);
      samples.get(contender.name)!.push((ops / elapsedMs) * 1000);
    }
  }
  if (sink === -1) console.log(sink); // never true; reads the sink
  return new Map([...samples].map(([name, values]) => [name, median(values)]));
}
