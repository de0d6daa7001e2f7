import type { SessionService } from "./session-service.ts";

export interface PruneScheduleOptions {
  /** Seconds between runs; 0 turns the schedule off. Resolved setting `sessionPruneIntervalSeconds`. */
  intervalSeconds: number;
  /** Sessions that ended or expired longer ago than this are deleted. Setting `sessionRetentionSeconds`. */
  retentionSeconds: number;
  /** Told how many sessions a run removed (only when it removed some). */
  onPruned?: (removed: number) => void;
  /** A failed run (database down) is reported and tried again at the next tick. */
  onError: (error: unknown) => void;
}

/**
 * Deletes ended and expired sessions every `intervalSeconds`, so the table does not grow with
 * every login ever made. Each run waits up to a tenth of the interval more, at random, so that
 * instances started together do not all prune at the same moment. The timer never keeps the
 * process alive, and runs never overlap. Returns the function that stops it (and waits for a run
 * in progress, so the database is not closed under it).
 */
export function schedulePruning(sessions: SessionService, options: PruneScheduleOptions): () => Promise<void> {
  if (options.intervalSeconds === 0) return async () => undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let running: Promise<void> = Promise.resolve();

  const next = () => {
    if (stopped) return;
    const delay = options.intervalSeconds * 1000 * (1 + Math.random() / 10);
    timer = setTimeout(run, delay);
    timer.unref();
  };
  const run = () => {
    running = sessions
      .prune(options.retentionSeconds)
      .then(({ removed }) => {
        if (removed > 0) options.onPruned?.(removed);
      }, options.onError)
      .finally(next);
  };

  next();
  return async () => {
    stopped = true;
    clearTimeout(timer);
    await running;
  };
}
