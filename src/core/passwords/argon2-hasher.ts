import { createHashingSlots, type HashingLoad, type HashingSlotsOptions } from "./hashing-slots.ts";
import { randomBytes } from "node:crypto";
import { AuthError } from "../errors.ts";
import { parseArgon2Phc } from "./argon2-phc.ts";
import { createArgon2Pool } from "./argon2-pool.ts";

/** argon2id cost parameters. */
export interface Argon2Params {
  /** Memory per hash, in KiB. */
  memoryCost: number;
  /** Passes over the memory. */
  timeCost: number;
  /** Lanes. */
  parallelism: number;
}

/**
 * Hashes and checks passwords; the only place that knows the algorithm. `address` (the client's,
 * as the throttle keys it) bounds how many hashes one address may have in progress.
 * Every method throws `AuthError("too_many_requests")` with `retryAfter` when the server is too
 * busy to hash now: that is no answer about the password, so callers must not count it as one.
 */
export interface PasswordHasher {
  /** A salted argon2id PHC string for `password`, computed off the event loop. */
  hash(password: string, address?: string): Promise<string>;
  /** Whether `password` matches `phc`. A malformed or foreign hash gives `false`. */
  verify(phc: string, password: string, address?: string): Promise<boolean>;
  /** Whether `phc` was made with a different algorithm or weaker parameters than the current ones. */
  needsRehash(phc: string): boolean;
  /**
   * A real verify against a throwaway hash, always `false`: spend the same work for an
   * unknown user as for a wrong password, so timing does not reveal which accounts exist.
   */
  verifyDummy(password: string, address?: string): Promise<false>;
}

/** The argon2id hasher, with its load (for metrics, and for tests counting real computations). */
export interface Argon2Hasher extends PasswordHasher {
  readonly load: HashingLoad;
  /** Stops the hashing threads (a later hash starts new ones). */
  close(): Promise<void>;
}

/** The costliest stored hash this server will compute (4 GiB, 100 passes, 16 lanes): a tampered row cannot stall it. */
const MAX = { memoryCost: 4_194_304, timeCost: 100, parallelism: 16 } as const;

/**
 * `Algorithm.Argon2id` from @node-rs/argon2. The package declares `Algorithm` as a
 * `const enum`, which cannot be imported under `verbatimModuleSyntax`, so the value is spelled out.
 */
const ARGON2ID = 2;
/** Version 0x13 (19), the current argon2 version. */
const ARGON2_VERSION = 19;

/**
 * Creates the argon2id password hasher from resolved settings (`argon2.*`: defaults, ranges
 * and OWASP's minimum table are in core/config).
 *
 * Hashing and verifying run on worker threads at a lower CPU priority (argon2-pool.ts): the
 * event loop keeps serving requests, ahead of the hashes, while passwords are hashed.
 *
 * @example
 * const { argon2 } = resolveConfig();
 * const hasher = createArgon2Hasher(argon2, argon2);
 * const phc = await hasher.hash("correct horse battery staple");
 * await hasher.verify(phc, "correct horse battery staple"); // true
 * hasher.needsRehash(phc); // false until the parameters are raised
 */
export function createArgon2Hasher(params: Argon2Params, slotOptions: HashingSlotsOptions): Argon2Hasher {
  const slots = createHashingSlots(slotOptions);
  const pool = createArgon2Pool(slotOptions.maxConcurrent);
  const { memoryCost, timeCost, parallelism } = params;
  const current: Argon2Params = { memoryCost, timeCost, parallelism };
  const options = { ...current, algorithm: ARGON2ID } as const;
  let dummyHash: Promise<string> | undefined;

  const verify = async (phc: string, password: string, address?: string): Promise<boolean> => {
    const parsed = parseArgon2Phc(phc);
    // Refuse junk before the native code sees it, and hashes whose cost could stall the server.
    if (
      !parsed ||
      parsed.memoryCost > MAX.memoryCost ||
      parsed.timeCost > MAX.timeCost ||
      parsed.parallelism > MAX.parallelism
    ) {
      return false;
    }
    try {
      return await slots.run(() => pool.verify(phc, password), address);
    } catch (error) {
      // A busy server is not a wrong password: the caller answers 429 and counts no failure.
      if (error instanceof AuthError) throw error;
      return false;
    }
  };

  return {
    load: slots,
    hash: (password, address) => slots.run(() => pool.hash(password, options), address),
    close: () => pool.close(),
    verify,
    needsRehash(phc) {
      const parsed = parseArgon2Phc(phc);
      if (parsed?.algorithm !== "argon2id" || parsed.version !== ARGON2_VERSION) return true;
      return (
        parsed.memoryCost < current.memoryCost ||
        parsed.timeCost < current.timeCost ||
        parsed.parallelism < current.parallelism
      );
    },
    async verifyDummy(password, address) {
      // Computed once, lazily, with the current parameters so its cost matches a real account's.
      dummyHash ??= slots
        .run(() => pool.hash(randomBytes(32).toString("base64url"), options))
        .catch((error: unknown) => {
          dummyHash = undefined;
          throw error;
        });
      await verify(await dummyHash, password, address);
      return false;
    },
  };
}
