import type { JsonWebKey, KeyObject } from "node:crypto";
import type { ChangeFeedCapability } from "../store/change-feed.ts";
import type { SigningKeyRecord, StoreOps } from "../store/store.ts";
import type { SigningKeyAccess } from "./sealed-key-store.ts";
import type { Clock } from "../clock.ts";
import { AuthError } from "../errors.ts";
import {
  generateSigningKeyRecord,
  hmacSigningKey,
  importSigningKeyRecord,
  isAsymmetricAlgorithm,
  verificationPart,
} from "./key-material.ts";
import { retirementExpiry } from "./key-rotation.ts";
import {
  chooseSigningKey,
  isExpired,
  isRetired,
  type KeySchedule,
  newestFirst,
  signingRecordAt,
} from "./signing-key-choice.ts";

export { rotateSigningKeys, type RotateSigningKeysOptions } from "./key-rotation.ts";
export { type SigningKeyAccess, sealedSigningKeys } from "./sealed-key-store.ts";

/** Algorithms for keys Gatehouse generates and publishes in its JWKS. */
export type AsymmetricAlgorithm = "EdDSA" | "ES256";
/** Every algorithm an access token may be signed with; HS256 only with a configured secret. */
export type SigningAlgorithm = AsymmetricAlgorithm | "HS256";

/** A key a token may be verified with; `alg` is pinned to it (tokens cannot choose). */
export interface VerificationKey {
  kid: string;
  alg: SigningAlgorithm;
  /** Public key (EdDSA, ES256) or the secret key (HS256). */
  key: KeyObject;
}

/** The key new tokens are signed with. */
export interface SigningKey extends VerificationKey {
  privateKey: KeyObject;
  /** base64url of `{"alg","typ":"at+jwt","kid"}`, computed once. */
  encodedHeader: string;
}

export interface LoadKeyRingOptions {
  /** Algorithm of the key generated when none of it is active. */
  algorithm: AsymmetricAlgorithm;
  /** HS256 mode: sign and verify with this secret only (from assertStrongSecret); nothing is stored or published. */
  hmacSecret?: Buffer;
  clock: Clock;
  /** Access-token lifetime: a key retired on an algorithm switch stays verifiable this long (+ 60 s skew). */
  accessTokenTtlSeconds: number;
}

interface RingEntry extends KeySchedule {
  verification: VerificationKey;
  signing: SigningKey | undefined;
  /** Public JWK for the JWKS; undefined for HS256 (a shared secret is never published). */
  jwk: JsonWebKey | undefined;
}

/**
 * The verification keys by kid and the signing key in force, built once from the store
 * (or from the HS256 secret) so signing and verifying never touch the database or parse a
 * key. Time decides which key signs (see chooseSigningKey): the newest whose `activatesAt`
 * has passed and that is neither retired nor expired. Call `reload` (or {@link followKeyChanges},
 * {@link keepKeyRingFresh}) to pick up keys added or removed by other instances or the CLI.
 */
export class KeyRing {
  readonly #clock: Clock;
  readonly #hmac: boolean;
  #byKid: Map<string, RingEntry>;
  /** Entries with a private key. */
  #signers: RingEntry[];

  private constructor(clock: Clock, hmac: boolean, entries: RingEntry[]) {
    this.#clock = clock;
    this.#hmac = hmac;
    this.#byKid = new Map();
    this.#signers = [];
    this.#install(entries);
  }

  /** A ring with the single HS256 key derived from `secret`. */
  static forHmacSecret(secret: Buffer, clock: Clock): KeyRing {
    const signing = hmacSigningKey(secret);
    return new KeyRing(clock, true, [
      {
        kid: signing.kid,
        verification: verificationPart(signing),
        signing,
        jwk: undefined,
        createdAt: 0,
        activatesAt: 0,
        retiredAt: null,
        expiresAt: null,
      },
    ]);
  }

  /** A ring of the stored asymmetric keys that are not expired (unusable records are skipped). */
  static fromRecords(records: readonly SigningKeyRecord[], clock: Clock): KeyRing {
    return new KeyRing(clock, false, entriesFrom(records, clock.now()));
  }

  /** Whether this ring signs with a shared HS256 secret (and publishes no JWKS keys). */
  get isHmac(): boolean {
    return this.#hmac;
  }

  /**
   * The key to sign with now. Throws AuthError("internal_error") when none is active, which
   * only happens if every stored key was retired by hand.
   */
  signingKey(): SigningKey {
    const entry = chooseSigningKey(this.#signers, this.#clock.now());
    if (entry?.signing !== undefined) return entry.signing;
    throw new AuthError(
      "internal_error",
      "No signing key is active. Run `npx gatehouse keys rotate` to create one, then restart.",
    );
  }

  /** The verification key for `kid` (a plain Map lookup), or undefined when unknown or expired. */
  resolve(kid: string): VerificationKey | undefined {
    const entry = this.#byKid.get(kid);
    if (entry === undefined) return undefined;
    if (isExpired(entry, this.#clock.now())) return undefined;
    return entry.verification;
  }

  /**
   * The public JWKS: every unexpired asymmetric key, including keys published ahead of
   * their activation, each with public members only plus `kid`, `alg` and `use: "sig"`.
   * Empty in HS256 mode.
   */
  jwks(): { keys: JsonWebKey[] } {
    const now = this.#clock.now();
    const keys: JsonWebKey[] = [];
    for (const entry of this.#byKid.values()) {
      if (entry.jwk !== undefined && !isExpired(entry, now)) keys.push({ ...entry.jwk });
    }
    return { keys };
  }

  /** Re-reads the stored keys (no-op in HS256 mode). The swap is atomic for concurrent readers. */
  async reload(store: Pick<StoreOps, "listSigningKeys">): Promise<void> {
    if (this.#hmac) return;
    this.#install(entriesFrom(await store.listSigningKeys(), this.#clock.now()));
  }

  #install(entries: RingEntry[]): void {
    this.#byKid = new Map(entries.map((entry) => [entry.kid, entry]));
    this.#signers = entries.filter((entry) => entry.signing !== undefined);
  }
}

/**
 * Loads the signing keys, creating one when none of `algorithm` is active (first start, or
 * the configured algorithm changed: the previous key then stops signing at once and stays
 * verifiable until its last token has expired).
 *
 * Safe for instances starting together on one database: a new key is stored held back
 * (not signing), then an election through `putSettingIfAbsent` (first writer wins) picks
 * exactly one candidate; losers withdraw theirs and everyone signs with the winner's key,
 * which is already in the store when the election result becomes visible.
 *
 * With `hmacSecret`, HS256 only: nothing is read from or written to the store.
 *
 * Pass the store through {@link sealedSigningKeys} so private keys are encrypted at rest.
 *
 * @returns the ring and human notes for what was generated (for the start-up line).
 */
export async function loadKeyRing(
  store: SigningKeyAccess,
  options: LoadKeyRingOptions,
): Promise<{ ring: KeyRing; created: string[] }> {
  const { algorithm, hmacSecret, clock, accessTokenTtlSeconds } = options;
  if (hmacSecret !== undefined) return { ring: KeyRing.forHmacSecret(hmacSecret, clock), created: [] };
  if (!isAsymmetricAlgorithm(algorithm)) {
    throw new AuthError(
      "invalid_config",
      `signing algorithm must be "EdDSA" or "ES256" (got ${JSON.stringify(String(algorithm))}).`,
    );
  }
  if (!(Number.isFinite(accessTokenTtlSeconds) && accessTokenTtlSeconds > 0)) {
    throw new AuthError("invalid_config", "accessTokenTtlSeconds must be a positive number of seconds.");
  }

  const created: string[] = [];
  let records = await store.listSigningKeys();
  const current = signingRecordAt(records, clock.now());
  if (current === undefined || current.alg !== algorithm) {
    created.push(...(await electSigningKey(store, records, algorithm, clock, accessTokenTtlSeconds)));
    records = await store.listSigningKeys();
  }
  const ring = KeyRing.fromRecords(records, clock);
  ring.signingKey(); // fail at start-up, not on the first login
  return { ring, created };
}

/**
 * Reloads `ring` from `store` every `intervalMs` (default 60 s), so every instance learns
 * about rotated keys long before they activate (rotation publishes an hour ahead by
 * default). The timer does not keep the process alive. Returns a function that stops it.
 */
export function keepKeyRingFresh(
  ring: KeyRing,
  store: Pick<StoreOps, "listSigningKeys">,
  options: { intervalMs?: number; onError?: (error: unknown) => void } = {},
): () => void {
  const intervalMs = options.intervalMs ?? 60_000;
  if (!(Number.isFinite(intervalMs) && intervalMs >= 1000))
    throw new AuthError("invalid_config", "intervalMs must be at least 1000 ms.");
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    ring
      .reload(store)
      .catch((error: unknown) => options.onError?.(error))
      .finally(() => {
        running = false;
      });
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * Reloads `ring` from `keys` (the store, through sealedSigningKeys) whenever the store's change
 * feed says the signing keys changed (a rotation or
 * a removal, by any instance or the CLI), and after each (re)connection of the feed, when a
 * change may have been missed: every instance learns within moments instead of at the next
 * poll. Reloads never overlap; changes during one cause one more. Returns a function that stops.
 */
export function followKeyChanges(
  ring: KeyRing,
  keys: Pick<StoreOps, "listSigningKeys">,
  feed: Pick<ChangeFeedCapability, "subscribeChanges">,
  options: { onError?: (error: unknown) => void } = {},
): () => Promise<void> {
  if (ring.isHmac) return async () => undefined;
  let running = false;
  let again = false;
  const reload = (): void => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    again = false;
    ring
      .reload(keys)
      .catch((error: unknown) => options.onError?.(error))
      .finally(() => {
        running = false;
        if (again) reload();
      });
  };
  const subscription = feed.subscribeChanges({
    change: (change) => {
      if (change.kind === "signing_keys_changed") reload();
    },
    connected: reload,
    synced: () => undefined,
    lost: () => undefined,
  });
  return () => subscription.close();
}

/** Stores a held-back candidate, runs the election, and leaves exactly one winner signing. */
async function electSigningKey(
  store: SigningKeyAccess,
  before: SigningKeyRecord[],
  algorithm: AsymmetricAlgorithm,
  clock: Clock,
  ttlSeconds: number,
): Promise<string[]> {
  const now = clock.now();
  const notes: string[] = [];
  // Racing instances see the same keys that ever signed, so they compete for the same name.
  const epoch = newestEverSigningKid(before) ?? "none";
  const candidate = generateSigningKeyRecord(algorithm, now);
  await store.insertSigningKey({ ...candidate, retiredAt: candidate.activatesAt });
  const winner = await store.putSettingIfAbsent(`signing_key_election:${algorithm}:${epoch}`, candidate.kid);
  const records = await store.listSigningKeys();
  const winning = records.find((record) => record.kid === winner);

  let chosen: string;
  if (winner === candidate.kid || winning === undefined) {
    // Won, or the recorded winner no longer exists (keys deleted by hand): use ours.
    await store.updateSigningKey(candidate.kid, { retiredAt: null, expiresAt: null });
    chosen = candidate.kid;
    notes.push(`created ${algorithm} signing key kid=${candidate.kid}`);
  } else {
    await store.updateSigningKey(candidate.kid, { retiredAt: now, expiresAt: now });
    // The winner's instance may have stopped before releasing its key; releasing is idempotent.
    if (isHeldBack(winning)) await store.updateSigningKey(winning.kid, { retiredAt: null });
    chosen = winning.kid;
  }

  for (const record of records) {
    if (record.kid === chosen || record.kid === candidate.kid || record.alg === algorithm || isHeldBack(record))
      continue;
    if (isExpired(record, now) || isRetired(record, now)) continue;
    const hasSigned = record.activatesAt <= now;
    await store.updateSigningKey(record.kid, {
      retiredAt: now,
      expiresAt: hasSigned ? retirementExpiry(now, ttlSeconds) : now,
    });
    if (winner === candidate.kid && hasSigned)
      notes.push(`retired ${record.alg} signing key kid=${record.kid} (algorithm changed to ${algorithm})`);
  }
  return notes;
}

function entriesFrom(records: readonly SigningKeyRecord[], now: number): RingEntry[] {
  const entries: RingEntry[] = [];
  for (const record of records) {
    // A held-back election candidate never signed and never will: nothing to verify or publish.
    if (isExpired(record, now) || isHeldBack(record)) continue;
    const imported = importSigningKeyRecord(record);
    if (imported === undefined) continue;
    entries.push({
      kid: record.kid,
      verification: verificationPart(imported.signing),
      signing: imported.signing,
      jwk: imported.jwk,
      createdAt: record.createdAt,
      activatesAt: record.activatesAt,
      retiredAt: record.retiredAt,
      expiresAt: record.expiresAt,
    });
  }
  return entries;
}

function newestEverSigningKid(records: readonly SigningKeyRecord[]): string | undefined {
  return records
    .filter((record) => record.retiredAt === null || record.retiredAt > record.activatesAt)
    .sort(newestFirst)[0]?.kid;
}

/** A candidate waiting for the election: retired at its own activation and not yet expired. */
function isHeldBack(record: SigningKeyRecord): boolean {
  return record.retiredAt !== null && record.retiredAt <= record.activatesAt && record.expiresAt === null;
}
