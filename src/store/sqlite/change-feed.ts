import type { ChangeListener, ChangeSubscription } from "../../core/store/change-feed.ts";

/**
 * SQLite's change feed for what other processes commit (an administrator's CLI, say): this
 * process's own changes reach listeners in-process, after commit, through the SQL store.
 *
 * `PRAGMA data_version` changes exactly when another connection has committed to the file;
 * reading it costs no disk access. It is polled every `pollMs`: an unchanged value confirms
 * nothing was missed (`synced`), a changed one asks listeners to catch up from the database
 * (`connected`), since SQLite cannot say what changed.
 */
export function openSqliteChangeFeed(
  readDataVersion: () => number,
  listener: ChangeListener,
  pollMs = 200,
): ChangeSubscription {
  let version: number | undefined;
  let failed = false;
  const poll = (): void => {
    const sentAt = performance.now();
    let current: number;
    try {
      current = readDataVersion();
    } catch (error) {
      // The file could not be read (closed, disk error): changes may go unseen until it can.
      if (!failed) listener.lost(error);
      failed = true;
      return;
    }
    if (failed || current !== version) {
      failed = false;
      version = current;
      listener.connected();
    } else {
      listener.synced(sentAt);
    }
  };
  poll();
  const timer = setInterval(poll, pollMs);
  timer.unref();
  return {
    close: async () => clearInterval(timer),
  };
}
