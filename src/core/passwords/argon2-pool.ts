import { hash as hashOnLibuvPool, verify as verifyOnLibuvPool } from "@node-rs/argon2";
import { siblingEntry } from "../workers/spawn-worker.ts";
import { createWorkerPool } from "../workers/worker-pool.ts";
import type { Argon2Options, Argon2Work } from "./argon2-messages.ts";

/** Computes argon2 off the event loop. */
export interface Argon2Pool {
  hash(password: string, options: Argon2Options): Promise<string>;
  /** Rejects when `phc` is malformed (as @node-rs/argon2 does). */
  verify(phc: string, password: string): Promise<boolean>;
  /** Stops the workers; a later call starts new ones. */
  close(): Promise<void>;
}

const onLibuvPool = (work: Argon2Work): Promise<string | boolean> =>
  work.op === "hash" ? hashOnLibuvPool(work.password, work.options) : verifyOnLibuvPool(work.phc, work.password);

/**
 * Up to `size` worker threads computing argon2, each at a lower CPU priority than the event loop
 * (hashing-priority.ts): during a login flood the requests of signed-in users go first, and the
 * hashes take whatever CPU is left. (On libuv's thread pool, where @node-rs/argon2's async API
 * runs, hashes competed with the event loop as equals.) Callers bound the work in flight to
 * `size` (hashing-slots.ts). If the workers cannot start (a single-file bundle), hashing runs on
 * libuv's pool as before; if one dies, its jobs fail with `unavailable` (see worker-pool.ts).
 * `entry` is for tests.
 */
export function createArgon2Pool(
  size: number,
  entry: URL = siblingEntry("argon2-worker", import.meta.url),
): Argon2Pool {
  const pool = createWorkerPool<Argon2Work, string | boolean>({
    entry,
    size,
    fallback: onLibuvPool,
    diedMessage: "Password hashing stopped unexpectedly. Try again.",
  });
  return {
    hash: async (password, options) => String(await pool.run({ op: "hash", password, options })),
    verify: async (phc, password) => (await pool.run({ op: "verify", password, phc })) === true,
    close: () => pool.close(),
  };
}
