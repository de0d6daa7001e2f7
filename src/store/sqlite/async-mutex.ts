/**
 * A FIFO lock built on a promise chain. SQLite has one connection per store, and an
 * async transaction yields between statements, so every operation queues here to keep
 * other callers' statements out of an open transaction.
 */
export class AsyncMutex {
  #tail: Promise<unknown> = Promise.resolve();
  #waiting = 0;

  /** True when nothing holds or waits for the lock: a synchronous task may run at once. */
  get idle(): boolean {
    return this.#waiting === 0;
  }

  /** Runs `task` once every earlier task has settled; the lock is held until `task` settles. */
  run<T>(task: () => T | Promise<T>): Promise<T> {
    this.#waiting++;
    const result = this.#tail.then(task);
    const release = (): void => {
      this.#waiting--;
    };
    this.#tail = result.then(release, release);
    return result;
  }
}
