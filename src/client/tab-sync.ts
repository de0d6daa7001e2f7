/**
 * Coordination between tabs of one origin, so that a rotating refresh token is spent once.
 *
 * - A Web Lock (`navigator.locks`) lets one tab at a time refresh (or log out).
 * - A BroadcastChannel carries the outcome: the tab that refreshed posts the new access
 *   token, so a tab that was waiting for the lock finds it already holds a fresh token and
 *   does not refresh again. BroadcastChannel is same-origin and in memory; the token never
 *   reaches any storage.
 *
 * Messages on the channel and lock grants travel separately, so a tab that acquires the
 * lock may not have seen the previous holder's result yet. Each refresh is therefore
 * announced when it starts; a tab that knows of an unfinished peer refresh waits (briefly)
 * for its outcome before deciding to refresh itself.
 */

/** A token as shared between tabs. `expiresAt` is epoch milliseconds. */
export interface SharedToken {
  accessToken: string;
  expiresAt: number;
  lifetimeSeconds: number;
}

export type TabMessage =
  | { type: "refresh-started"; id: string }
  | { type: "refresh-finished"; id: string; token: SharedToken | null }
  | { type: "signed-in"; token: SharedToken }
  | { type: "signed-out" };

/** How long to wait for the outcome of a peer's refresh that we know has started. */
const PEER_REFRESH_TIMEOUT_MS = 5_000;
/** After acquiring a contended lock with no known peer refresh: how long to wait for a late result. */
const LATE_RESULT_GRACE_MS = 150;

interface PendingPeerRefresh {
  done: Promise<void>;
  finish: () => void;
}

export interface TabSyncOptions {
  lockName: string;
  channelName: string;
}

export class TabSync {
  readonly #lockName: string;
  readonly #channel: BroadcastChannel | undefined;
  readonly #peerRefreshes = new Map<string, PendingPeerRefresh>();
  readonly #onResult = new Set<() => void>();
  #onMessage: (message: TabMessage) => void = () => {};

  constructor(options: TabSyncOptions) {
    this.#lockName = options.lockName;
    this.#channel = typeof BroadcastChannel === "function" ? new BroadcastChannel(options.channelName) : undefined;
    this.#channel?.addEventListener("message", (event: MessageEvent) => {
      const message = parseMessage(event.data);
      if (message) this.#receive(message);
    });
  }

  /** Whether Web Locks are available (secure contexts in current browsers). */
  get hasLocks(): boolean {
    return typeof navigator !== "undefined" && typeof navigator.locks?.request === "function";
  }

  /** Sets the handler for messages from other tabs. */
  listen(handler: (message: TabMessage) => void): void {
    this.#onMessage = handler;
  }

  post(message: TabMessage): void {
    try {
      this.#channel?.postMessage(message);
    } catch {
      // A closed channel (page being torn down): other tabs learn on their next refresh.
    }
  }

  /**
   * Runs `task` while holding the cross-tab refresh lock. `contended` tells the task whether
   * another tab held the lock first. Without Web Locks the task runs at once (the server's
   * rotation grace window then absorbs a concurrent refresh from another tab).
   */
  async exclusive<T>(task: (contended: boolean) => Promise<T>): Promise<T> {
    if (!this.hasLocks) return task(this.#peerRefreshes.size > 0);
    const locks = navigator.locks;
    let result: { value: T } | undefined;
    await locks.request(this.#lockName, { ifAvailable: true }, async (lock) => {
      if (lock) result = { value: await task(false) };
    });
    if (result) return result.value;
    return locks.request(this.#lockName, () => task(true));
  }

  /**
   * Waits until the refreshes other tabs have announced are finished (or timed out). When the
   * lock was contended and no refresh is known, waits a moment for a result still in flight.
   */
  async settlePeers(contended: boolean): Promise<void> {
    const pending = [...this.#peerRefreshes.values()].map((p) => p.done);
    if (pending.length > 0) {
      await withTimeout(Promise.all(pending), PEER_REFRESH_TIMEOUT_MS);
    } else if (contended && this.#channel) {
      await withTimeout(new Promise<void>((resolve) => this.#onResult.add(resolve)), LATE_RESULT_GRACE_MS);
    }
  }

  close(): void {
    this.#channel?.close();
    for (const pending of this.#peerRefreshes.values()) pending.finish();
    this.#peerRefreshes.clear();
  }

  #receive(message: TabMessage): void {
    if (message.type === "refresh-started") {
      let finish = () => {};
      const done = new Promise<void>((resolve) => (finish = resolve));
      this.#peerRefreshes.set(message.id, { done, finish });
      // A peer that closed mid-refresh never reports; forget it after the timeout.
      setTimeout(() => this.#finishPeer(message.id), PEER_REFRESH_TIMEOUT_MS);
      return;
    }
    // Deliver the result before releasing anyone waiting on it, so they see the new token.
    this.#onMessage(message);
    if (message.type === "refresh-finished") this.#finishPeer(message.id);
    for (const resolve of this.#onResult) resolve();
    this.#onResult.clear();
  }

  #finishPeer(id: string): void {
    this.#peerRefreshes.get(id)?.finish();
    this.#peerRefreshes.delete(id);
  }
}

function withTimeout(promise: Promise<unknown>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    void promise.then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function parseToken(value: unknown): SharedToken | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const { accessToken, expiresAt, lifetimeSeconds } = value as Record<string, unknown>;
  if (typeof accessToken !== "string" || typeof expiresAt !== "number" || typeof lifetimeSeconds !== "number")
    return undefined;
  if (!Number.isFinite(expiresAt) || !Number.isFinite(lifetimeSeconds)) return undefined;
  return { accessToken, expiresAt, lifetimeSeconds };
}

/** Messages come from same-origin code only, but are still checked before use. */
function parseMessage(data: unknown): TabMessage | undefined {
  if (typeof data !== "object" || data === null) return undefined;
  const record = data as Record<string, unknown>;
  switch (record["type"]) {
    case "refresh-started":
      return typeof record["id"] === "string" ? { type: "refresh-started", id: record["id"] } : undefined;
    case "refresh-finished": {
      if (typeof record["id"] !== "string") return undefined;
      const token = record["token"] === null ? null : parseToken(record["token"]);
      return token === undefined ? undefined : { type: "refresh-finished", id: record["id"], token };
    }
    case "signed-in": {
      const token = parseToken(record["token"]);
      return token ? { type: "signed-in", token } : undefined;
    }
    case "signed-out":
      return { type: "signed-out" };
    default:
      return undefined;
  }
}
