import type { ServerResponse, Server } from "node:http";
import type { Logger } from "pino";

export interface GracefulShutdownOptions {
  server: Server;
  /** Readiness turns 503 (`startDraining`); `close` stops workers and closes the database. */
  auth: { startDraining(): void; close(): Promise<void> };
  logger: Logger;
  /** How long to keep serving after the signal, with /readyz at 503, so load balancers move away. */
  drainSeconds: number;
  /** How long requests in flight may take once the listener is closed; then connections are cut. */
  timeoutSeconds: number;
  /** Bound on closing the database and workers. Default 10 s. */
  closeTimeoutSeconds?: number;
}

export interface GracefulShutdown {
  /**
   * Runs the shutdown; resolves with the exit code (0 when everything closed cleanly). A
   * second call while one runs skips what is left of the drain and returns the same promise.
   */
  shutdown(reason: string): Promise<number>;
  /** Requests being answered right now. */
  readonly inFlight: number;
}

/**
 * Graceful shutdown for the standalone server, in the order that loses no request:
 *
 * 1. drain: /readyz answers 503 at once, but everything is still served for `drainSeconds`
 *    (a load balancer needs a few probes to notice), each response with `Connection: close`
 *    so keep-alive clients move to a new connection instead of reusing this one;
 * 2. the listener closes (new connections are refused) and idle connections end;
 * 3. requests in flight finish, for at most `timeoutSeconds`; then remaining connections are cut;
 * 4. background work stops and the database closes.
 *
 * Install it right after the server is created: it tracks requests from the first one.
 */
export function prepareGracefulShutdown(options: GracefulShutdownOptions): GracefulShutdown {
  const { server, auth, logger } = options;
  const answering = new Set<ServerResponse>();
  let draining = false;
  let closingListener = false;
  let running: Promise<number> | undefined;
  let endDrainEarly: (() => void) | undefined;

  // Before the app sees the request, so the header is there whatever the route does.
  server.prependListener("request", (_req, res: ServerResponse) => {
    if (draining) res.setHeader("Connection", "close");
    answering.add(res);
    res.once("close", () => {
      answering.delete(res);
      // A keep-alive connection whose last answer just left is idle now: end it.
      if (closingListener) setImmediate(() => server.closeIdleConnections());
    });
  });

  const run = async (reason: string): Promise<number> => {
    draining = true;
    auth.startDraining();
    for (const res of answering) if (!res.headersSent) res.setHeader("Connection", "close");
    logger.info({ reason, drainSeconds: options.drainSeconds, inFlight: answering.size }, "shutting down: draining");
    await wait(options.drainSeconds * 1000, (skip) => {
      endDrainEarly = skip;
    });

    closingListener = true;
    logger.info({ inFlight: answering.size }, "shutting down: no new connections; finishing requests in flight");
    const listenerClosed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const finished = await Promise.race([
      listenerClosed.then(() => true),
      wait(options.timeoutSeconds * 1000).then(() => false),
    ]);
    if (!finished) {
      logger.warn({ inFlight: answering.size }, "shutting down: timeout reached, closing the remaining connections");
      server.closeAllConnections();
      await listenerClosed;
    }

    try {
      await within(auth.close(), (options.closeTimeoutSeconds ?? 10) * 1000);
    } catch (error) {
      logger.error({ err: error }, "shutting down: closing workers or the database failed");
      return 1;
    }
    logger.info("stopped");
    return 0;
  };

  return {
    shutdown(reason) {
      if (running) {
        endDrainEarly?.();
        return running;
      }
      running = run(reason);
      return running;
    },
    get inFlight() {
      return answering.size;
    },
  };
}

/** Resolves after `ms`, or earlier when the function handed to `onSkip` is called. */
function wait(ms: number, onSkip?: (skip: () => void) => void): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    onSkip?.(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function within<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`not done within ${ms / 1000} s`)), ms);
  });
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}
