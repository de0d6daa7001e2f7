import { createHashingSlots, type HashingSlotsOptions } from "./hashing-slots.ts";
import { randomBytes } from "node:crypto";
import { hash as argon2Hash, verify as argon2Verify } from "@node-rs/argon2";
import { AuthError } from "../errors.ts";
import { parseArgon2Phc } from "./argon2-phc.ts";

/** argon2id cost parameters. */
export interface Argon2Params {
  /** Memory per hash, in KiB. */
  memoryCost: number;
  /** Passes over the memory. */
  timeCost: number;
  /** Lanes. */
  parallelism: number;
}

/** Hashes and checks passwords; the only place that knows the algorithm. */
export interface PasswordHasher {
  /** A salted argon2id PHC string for `password`, computed off the event loop. */
  hash(password: string): Promise<string>;
  /** Whether `password` matches `phc`. A malformed or foreign hash gives `false`, never an exception. */
  verify(phc: string, password: string): Promise<boolean>;
  /** Whether `phc` was made with a different algorithm or weaker parameters than the current ones. */
  needsRehash(phc: string): boolean;
  /**
   * A real verify against a throwaway hash, always `false`: spend the same work for an
   * unknown user as for a wrong password, so timing does not reveal which accounts exist.
   */
  verifyDummy(password: string): Promise<false>;
}

/** OWASP Password Storage Cheat Sheet, argon2id: 19 MiB, 2 passes, 1 lane. */
export const DEFAULT_ARGON2_PARAMS: Readonly<Argon2Params> = Object.freeze({ memoryCost: 19_456, timeCost: 2, parallelism: 1 });

/**
 * OWASP's equivalent minimum configurations (memory KiB, passes), all with one lane.
 * Anything at or above one of these rows is accepted; anything weaker is refused.
 */
const OWASP_MINIMUMS: ReadonlyArray<{ memoryCost: number; timeCost: number }> = [
  { memoryCost: 47_104, timeCost: 1 },
  { memoryCost: 19_456, timeCost: 2 },
  { memoryCost: 12_288, timeCost: 3 },
  { memoryCost: 9_216, timeCost: 4 },
  { memoryCost: 7_168, timeCost: 5 },
];

/** Upper bounds that keep a typo from exhausting memory or CPU (4 GiB, 100 passes, 16 lanes). */
const MAX = { memoryCost: 4_194_304, timeCost: 100, parallelism: 16 } as const;

/**
 * `Algorithm.Argon2id` from @node-rs/argon2. The package declares `Algorithm` as a
 * `const enum`, which cannot be imported under `verbatimModuleSyntax`, so the value is spelled out.
 */
const ARGON2ID = 2;
/** Version 0x13 (19), the current argon2 version. */
const ARGON2_VERSION = 19;

/** The least memory OWASP allows for a given number of passes. */
function owaspMinimumMemory(timeCost: number): number {
  let minimum = Number.POSITIVE_INFINITY;
  for (const row of OWASP_MINIMUMS) {
    if (timeCost >= row.timeCost) minimum = Math.min(minimum, row.memoryCost);
  }
  return minimum;
}

function checkParams(params: Argon2Params): void {
  for (const name of ["memoryCost", "timeCost", "parallelism"] as const) {
    const value = params[name];
    if (!Number.isInteger(value) || value < 1 || value > MAX[name]) {
      throw new AuthError("invalid_config", `Gatehouse option "argon2.${name}" must be a whole number from 1 to ${MAX[name]}; got ${String(value)}.`);
    }
  }
  const minimumMemory = owaspMinimumMemory(params.timeCost);
  if (params.memoryCost < minimumMemory) {
    throw new AuthError(
      "invalid_config",
      `Gatehouse option "argon2.memoryCost" (${params.memoryCost} KiB) is weaker than OWASP's minimum for timeCost ${params.timeCost} ` +
        `(${minimumMemory} KiB). Raise memoryCost, or raise timeCost (timeCost 5 needs at least 7168 KiB).`,
    );
  }
}

/**
 * Creates the argon2id password hasher. Parameters default to OWASP's (m=19456 KiB, t=2, p=1)
 * and are checked once, here: anything weaker than OWASP's minimum table throws
 * `AuthError("invalid_config")` naming the option.
 *
 * Hashing and verifying use the asynchronous API of @node-rs/argon2, which runs on the libuv
 * thread pool: the event loop keeps serving requests while passwords are hashed.
 *
 * @example
 * const hasher = createArgon2Hasher();
 * const phc = await hasher.hash("correct horse battery staple");
 * await hasher.verify(phc, "correct horse battery staple"); // true
 * hasher.needsRehash(phc); // false until the parameters are raised
 */
export function createArgon2Hasher(params: Partial<Argon2Params> = {}, slotOptions: HashingSlotsOptions = {}): PasswordHasher {
  const slots = createHashingSlots(slotOptions);
  const current: Argon2Params = {
    memoryCost: params.memoryCost ?? DEFAULT_ARGON2_PARAMS.memoryCost,
    timeCost: params.timeCost ?? DEFAULT_ARGON2_PARAMS.timeCost,
    parallelism: params.parallelism ?? DEFAULT_ARGON2_PARAMS.parallelism,
  };
  checkParams(current);
  const options = { ...current, algorithm: ARGON2ID };
  let dummyHash: Promise<string> | undefined;

  const verify = async (phc: string, password: string): Promise<boolean> => {
    const parsed = parseArgon2Phc(phc);
    // Refuse junk before the native code sees it, and hashes whose cost could stall the server.
    if (!parsed || parsed.memoryCost > MAX.memoryCost || parsed.timeCost > MAX.timeCost || parsed.parallelism > MAX.parallelism) {
      return false;
    }
    try {
      return await slots.run(() => argon2Verify(phc, password));
    } catch {
      return false;
    }
  };

  return {
    hash: (password) => slots.run(() => argon2Hash(password, options)),
    verify,
    needsRehash(phc) {
      const parsed = parseArgon2Phc(phc);
      if (parsed?.algorithm !== "argon2id" || parsed.version !== ARGON2_VERSION) return true;
      return parsed.memoryCost < current.memoryCost || parsed.timeCost < current.timeCost || parsed.parallelism < current.parallelism;
    },
    async verifyDummy(password) {
      // Computed once, lazily, with the current parameters so its cost matches a real account's.
      dummyHash ??= slots.run(() => argon2Hash(randomBytes(32).toString("base64url"), options)).catch((error: unknown) => {
        dummyHash = undefined;
        throw error;
      });
      await verify(await dummyHash, password);
      return false;
    },
  };
}
