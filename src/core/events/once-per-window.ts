/**
 * Says yes to a key at most once per window. Throttled logins come in floods (that is why they
 * are throttled), so one audit row per account and address per window tells the story without
 * letting an attacker write a row per request. Memory is bounded: past `maxKeys` the oldest
 * keys are forgotten, which at worst records a key again early.
 */
export class OncePerWindow {
  readonly #windowMs: number;
  readonly #maxKeys: number;
  readonly #until = new Map<string, number>();

  constructor(windowMs: number, maxKeys = 10_000) {
    this.#windowMs = windowMs;
    this.#maxKeys = maxKeys;
  }

  take(key: string, now: number): boolean {
    const until = this.#until.get(key);
    if (until !== undefined && now < until) return false;
    this.#until.delete(key);
    if (this.#until.size >= this.#maxKeys) {
      // Maps iterate in insertion order: the first key is the oldest.
      const oldest = this.#until.keys().next().value;
      if (oldest !== undefined) this.#until.delete(oldest);
    }
    this.#until.set(key, now + this.#windowMs);
    return true;
  }
}
