import type { SigningKeyRecord } from "../store/store.ts";
import { isAsymmetricAlgorithm } from "./key-material.ts";

/** The times that decide a key's part in signing; stored keys and ring entries both have them (ms). */
export interface KeySchedule {
  kid: string;
  createdAt: number;
  /** Signs from this moment (rotation publishes keys ahead of it). */
  activatesAt: number;
  /** Stops signing at this moment; still verifies. */
  retiredAt: number | null;
  /** Leaves the JWKS and verifies nothing from this moment. */
  expiresAt: number | null;
}

/** Whether the key has stopped signing by `now`. */
export function isRetired(key: Pick<KeySchedule, "retiredAt">, now: number): boolean {
  return key.retiredAt !== null && key.retiredAt <= now;
}

/** Whether the key is gone (unpublished, verifies nothing) by `now`. */
export function isExpired(key: Pick<KeySchedule, "expiresAt">, now: number): boolean {
  return key.expiresAt !== null && key.expiresAt <= now;
}

/** Whether the key may sign at `now`: activated, and neither retired nor expired. */
export function canSign(key: KeySchedule, now: number): boolean {
  return key.activatesAt <= now && !isRetired(key, now) && !isExpired(key, now);
}

/**
 * Sort order for signing: newest activation first, then newest creation, then the smaller
 * kid, so every instance (and the CLI) breaks ties the same way.
 */
export function newestFirst(a: KeySchedule, b: KeySchedule): number {
  if (a.activatesAt !== b.activatesAt) return b.activatesAt - a.activatesAt;
  if (a.createdAt !== b.createdAt) return b.createdAt - a.createdAt;
  return a.kid < b.kid ? -1 : a.kid > b.kid ? 1 : 0;
}

/**
 * The one rule for which key signs at `now`: of the keys that can sign, the first by
 * {@link newestFirst}; undefined when none can. A key published ahead therefore takes over
 * at its `activatesAt` without anyone retiring the previous one first.
 */
export function chooseSigningKey<K extends KeySchedule>(keys: Iterable<K>, now: number): K | undefined {
  let chosen: K | undefined;
  for (const key of keys) {
    if (canSign(key, now) && (chosen === undefined || newestFirst(key, chosen) < 0)) chosen = key;
  }
  return chosen;
}

/** The stored record that signs at `now`: the same rule, among keys of an algorithm Gatehouse signs with. */
export function signingRecordAt(records: readonly SigningKeyRecord[], now: number): SigningKeyRecord | undefined {
  return chooseSigningKey(
    records.filter((record) => isAsymmetricAlgorithm(record.alg)),
    now,
  );
}
