/** What a worker pool sends one of its threads: one piece of work, numbered. */
export interface WorkRequest<W> {
  id: number;
  work: W;
}

/** What the thread answers: the result, or why there is none. */
export type WorkReply<R> = { id: number; result: R } | { id: number; error: string };
