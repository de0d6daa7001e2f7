/** argon2id options as @node-rs/argon2 takes them (algorithm 2 is Argon2id). */
export interface Argon2Options {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
  algorithm: 2;
}

/** What the argon2 pool sends a worker. */
export type Argon2Request =
  | { id: number; op: "hash"; password: string; options: Argon2Options }
  | { id: number; op: "verify"; password: string; phc: string };

/** What a worker answers: the PHC string or the verdict, or why there is none. */
export type Argon2Reply = { id: number; result: string | boolean } | { id: number; error: string };
