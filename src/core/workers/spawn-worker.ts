import { Worker } from "node:worker_threads";

/**
 * A worker thread running the module at `entry` (see siblingEntry). From source the worker
 * registers tsx itself: on Node 20 a worker does not inherit the loader that `--import tsx`
 * installed. Throws if that is impossible (no tsx); callers then do the work on their own thread.
 */
export function spawnWorker(entry: URL): Worker {
  if (!entry.pathname.endsWith(".ts")) return new Worker(entry);
  const tsx = import.meta.resolve("tsx/esm/api");
  const code = `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(code, { eval: true });
}

/** `./<name>.ts` beside `base` when `base` is a `.ts` file (running from source), else `./<name>.js`. */
export function siblingEntry(name: string, base: string): URL {
  return new URL(`./${name}${base.endsWith(".ts") ? ".ts" : ".js"}`, base);
}
