/** argon2id options as @node-rs/argon2 takes them (algorithm 2 is Argon2id). */
export interface Argon2Options {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
  algorithm: 2;
}

/** One job of the argon2 pool; a worker answers the PHC string or the verdict. */
export type Argon2Work =
  | { op: "hash"; password: string; options: Argon2Options }
  | { op: "verify"; password: string; phc: string };
