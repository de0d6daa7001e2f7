/** The parts of an argon2 PHC string (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`). */
export interface Argon2Phc {
  algorithm: "argon2id" | "argon2i" | "argon2d";
  /** 19 (0x13) today; 16 (0x10) when the string has no `v=` field, as old libraries wrote it. */
  version: number;
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

const ALGORITHMS = new Set(["argon2id", "argon2i", "argon2d"]);
const DECIMAL = /^(?:0|[1-9][0-9]{0,9})$/;
/** PHC salt and hash: standard base64 without padding. */
const B64 = /^[A-Za-z0-9+/]+$/;

/**
 * Parses an argon2 PHC string strictly; anything malformed gives `null`, never an exception,
 * so callers can treat junk in the password column as "does not verify".
 *
 * @example
 * parseArgon2Phc("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA")?.memoryCost; // 19456
 */
export function parseArgon2Phc(phc: string): Argon2Phc | null {
  if (typeof phc !== "string" || phc.length > 512) return null;
  const fields = phc.split("$");
  if (fields[0] !== "") return null;
  const algorithm = fields[1];
  if (algorithm === undefined || !ALGORITHMS.has(algorithm)) return null;
  let rest = fields.slice(2);
  let version = 16;
  if (rest[0]?.startsWith("v=")) {
    const value = rest[0].slice(2);
    if (!DECIMAL.test(value)) return null;
    version = Number(value);
    rest = rest.slice(1);
  }
  if (rest.length !== 3) return null;
  const [params, salt, hash] = rest as [string, string, string];
  if (!B64.test(salt) || !B64.test(hash)) return null;

  const values = new Map<string, string>();
  for (const pair of params.split(",")) {
    const eq = pair.indexOf("=");
    if (eq <= 0) return null;
    const key = pair.slice(0, eq);
    if (values.has(key)) return null;
    values.set(key, pair.slice(eq + 1));
  }
  const m = values.get("m");
  const t = values.get("t");
  const p = values.get("p");
  if (m === undefined || t === undefined || p === undefined) return null;
  if (!DECIMAL.test(m) || !DECIMAL.test(t) || !DECIMAL.test(p)) return null;
  return {
    algorithm: algorithm as Argon2Phc["algorithm"],
    version,
    memoryCost: Number(m),
    timeCost: Number(t),
    parallelism: Number(p),
  };
}
