import type { Clock } from "../clock.ts";
import type { ChangeFeedCapability, ChangeListener, EndedSession, StoreChange } from "../store/change-feed.ts";

export interface RevocationListOptions {
  clock: Clock;
  /**
   * How long an access token may verify after its session ended: the token lifetime plus the
   * verifier's clock tolerance, in ms. An ended session is remembered this long (plus the margin).
   */
  tokenWindowMs: number;
  /**
   * Slack for times written by other instances (their clocks) and by transactions that
   * committed late: catch-up reads this much further back. Default 60 s.
   */
  marginMs?: number;
  /**
   * How long one proof from the feed ("nothing committed before this moment went unheard")
   * counts. Past it, without a newer proof, answers come from the database. Default 1000 ms.
   */
  leaseMs?: number;
  /** Rows per catch-up query. Default 1000. */
  pageSize?: number;
  /** Past this many remembered sessions, answers come from the database until some expire. Default 1,000,000. */
  maxEntries?: number;
  /** Reports a failed catch-up (it is retried). */
  onError?: (error: unknown) => void;
  /** Monotonic milliseconds; performance.now() unless a test needs otherwise. */
  monotonicNow?: () => number;
}

/** Where the list stands: only "live" answers from memory. */
export type RevocationPhase = "starting" | "catching_up" | "live" | "down";

export interface RevocationStatus {
  phase: RevocationPhase;
  /** Whether a check right now is answered from memory (live, recently confirmed, not over capacity). */
  answersFromMemory: boolean;
  /** Ended sessions remembered. */
  entries: number;
  /** Completed catch-ups since start (the first one included). */
  catchUps: number;
}

const CATCH_UP_RETRY_MS = 1000;
const SWEEP_EVERY_MS = 60_000;

/**
 * The sessions that ended while their access tokens may still be alive, kept in memory and
 * fed by the store's change feed, so a session check costs no database read.
 *
 * It only answers while it can vouch for being complete: the feed is connected, the
 * catch-up after the (re)connection has finished, and the feed proved within the lease that
 * nothing committed went unheard. Otherwise `check` answers `undefined` and the caller asks
 * the database, so a feed that is down, reconnecting or silently dead never lets an ended
 * session through.
 */
export class RevocationList implements ChangeListener {
  readonly #feed: Pick<ChangeFeedCapability, "listEndedSessions">;
  readonly #clock: Clock;
  readonly #monotonicNow: () => number;
  readonly #tokenWindowMs: number;
  readonly #marginMs: number;
  readonly #leaseMs: number;
  readonly #pageSize: number;
  readonly #maxEntries: number;
  readonly #onError: (error: unknown) => void;
  /** Session id → when it can be forgotten (its last token has expired), on the injected clock. */
  readonly #ended = new Map<string, number>();
  #phase: RevocationPhase = "starting";
  /** Changes with every (re)connection and loss, so a stale catch-up cannot declare the list live. */
  #generation = 0;
  #leaseUntil = Number.NEGATIVE_INFINITY;
  /** Injected-clock time up to which the feed was last known complete: the next catch-up starts here. */
  #completeUntil: number | undefined;
  #catchUps = 0;
  #retry: NodeJS.Timeout | undefined;
  readonly #sweeper: NodeJS.Timeout;
  /** Waiting for the list to go live (see whenLive). */
  #waiters: (() => void)[] = [];

  constructor(feed: Pick<ChangeFeedCapability, "listEndedSessions">, options: RevocationListOptions) {
    this.#feed = feed;
    this.#clock = options.clock;
    this.#monotonicNow = options.monotonicNow ?? (() => performance.now());
    this.#tokenWindowMs = options.tokenWindowMs;
    this.#marginMs = options.marginMs ?? 60_000;
    this.#leaseMs = options.leaseMs ?? 1000;
    this.#pageSize = options.pageSize ?? 1000;
    this.#maxEntries = options.maxEntries ?? 1_000_000;
    this.#onError = options.onError ?? (() => undefined);
    this.#sweeper = setInterval(() => this.sweep(), SWEEP_EVERY_MS);
    this.#sweeper.unref();
  }

  /**
   * Has this session ended? `true` or `false` from memory when the list can vouch for it;
   * `undefined` when it cannot (ask the database).
   */
  check(sessionId: string): boolean | undefined {
    if (!this.#answersFromMemory()) return undefined;
    return this.#ended.has(sessionId);
  }

  /**
   * Resolves true once the list is live (connected and caught up), or false after
   * `timeoutMs`: start-up waits a moment so the first requests are answered from memory.
   */
  whenLive(timeoutMs: number): Promise<boolean> {
    if (this.#phase === "live") return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.#waiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  status(): RevocationStatus {
    return {
      phase: this.#phase,
      answersFromMemory: this.#answersFromMemory(),
      entries: this.#ended.size,
      catchUps: this.#catchUps,
    };
  }

  change(change: StoreChange): void {
    if (change.kind === "session_ended") this.#remember(change.sessionId, change.endedAt);
  }

  connected(): void {
    const generation = ++this.#generation;
    this.#phase = "catching_up";
    clearTimeout(this.#retry);
    void this.#catchUp(generation);
  }

  synced(sentAt: number): void {
    if (this.#phase !== "live") return;
    this.#leaseUntil = Math.max(this.#leaseUntil, sentAt + this.#leaseMs);
    this.#completeUntil = this.#clock.now();
  }

  lost(_error?: unknown): void {
    this.#generation++;
    this.#phase = "down";
    clearTimeout(this.#retry);
  }

  /** Forgets sessions whose last access token has expired. */
  sweep(): void {
    const now = this.#clock.now();
    for (const [sessionId, forgetAt] of this.#ended) if (forgetAt <= now) this.#ended.delete(sessionId);
  }

  /** Stops the timers (the feed subscription is closed by whoever opened it). */
  close(): void {
    this.#generation++;
    this.#phase = "down";
    clearTimeout(this.#retry);
    clearInterval(this.#sweeper);
  }

  #answersFromMemory(): boolean {
    return this.#phase === "live" && this.#monotonicNow() < this.#leaseUntil && this.#ended.size <= this.#maxEntries;
  }

  #remember(sessionId: string, endedAt: number): void {
    const forgetAt = endedAt + this.#tokenWindowMs + this.#marginMs;
    if (forgetAt > (this.#ended.get(sessionId) ?? Number.NEGATIVE_INFINITY)) this.#ended.set(sessionId, forgetAt);
  }

  /**
   * Reads the sessions ended since the list was last known complete (all those whose tokens
   * may live, on the first connection), page by page, then goes live. Changes arriving
   * meanwhile are applied as they come; the feed delivers everything committed from the
   * connection on, and the query sees everything committed before it started.
   */
  async #catchUp(generation: number): Promise<void> {
    const startedAt = this.#monotonicNow();
    const now = this.#clock.now();
    const oldestThatMatters = now - this.#tokenWindowMs - this.#marginMs;
    const since = Math.max(oldestThatMatters, (this.#completeUntil ?? oldestThatMatters) - this.#marginMs);
    let cursor: EndedSession = { endedAt: since, id: "" };
    try {
      for (;;) {
        const page = await this.#feed.listEndedSessions(cursor, this.#pageSize);
        if (generation !== this.#generation) return;
        for (const ended of page) this.#remember(ended.id, ended.endedAt);
        if (page.length < this.#pageSize) break;
        cursor = page[page.length - 1]!;
      }
    } catch (error) {
      if (generation !== this.#generation) return;
      this.#onError(error);
      this.#retry = setTimeout(() => {
        if (generation === this.#generation) void this.#catchUp(generation);
      }, CATCH_UP_RETRY_MS);
      this.#retry.unref();
      return;
    }
    this.#phase = "live";
    this.#leaseUntil = startedAt + this.#leaseMs;
    this.#completeUntil = now;
    this.#catchUps++;
    for (const wake of this.#waiters.splice(0)) wake();
  }
}
