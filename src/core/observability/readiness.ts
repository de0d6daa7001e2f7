/** One dependency's state, as `/readyz` reports it. */
export type CheckState = "ok" | "failing" | "unknown";

export interface ReadinessReport {
  ready: boolean;
  /** True once shutdown began: the instance wants no new traffic, whatever the checks say. */
  draining: boolean;
  checks: { database: CheckState; schema: CheckState; keys: CheckState };
  /** One sentence for people when not ready. */
  problem?: string;
}

export interface ReadinessParts {
  /** Resolves when the database answers; rejects otherwise. */
  pingDatabase(): Promise<void>;
  /** Whether every schema step this code knows is applied. */
  schemaIsCurrent(): Promise<boolean>;
  /** Whether a signing key is in force. */
  keysLoaded(): boolean;
  /** A check that takes longer fails (a database behind a dead network never answers). Default 2000. */
  timeoutMs?: number;
}

export interface ReadinessProbe {
  check(): Promise<ReadinessReport>;
  /** From now on every report is "not ready": load balancers should move traffic elsewhere. */
  startDraining(): void;
  readonly draining: boolean;
}

/**
 * Readiness: can this instance serve logins and refreshes right now? The database answers,
 * its schema is current, a signing key is in force, and shutdown has not begun. Concurrent
 * probes share one check in flight, so hammering the endpoint costs one query at a time.
 */
export function createReadinessProbe(parts: ReadinessParts): ReadinessProbe {
  const timeoutMs = parts.timeoutMs ?? 2000;
  let draining = false;
  let inFlight: Promise<ReadinessReport> | undefined;

  const run = async (): Promise<ReadinessReport> => {
    const keys: CheckState = parts.keysLoaded() ? "ok" : "failing";
    let database: CheckState = "ok";
    let schema: CheckState = "unknown";
    try {
      await withTimeout(parts.pingDatabase(), timeoutMs);
    } catch {
      database = "failing";
    }
    if (database === "ok") {
      // A database that answers but has no migrations table at all is as outdated as it gets.
      schema = await withTimeout(parts.schemaIsCurrent(), timeoutMs).then(
        (current) => (current ? "ok" : "failing"),
        () => "failing" as const,
      );
    }
    const checks = { database, schema, keys };
    const problem =
      database !== "ok"
        ? "The database does not answer."
        : schema !== "ok"
          ? "The database schema is older than this version of Gatehouse: run `npx gatehouse migrate`."
          : keys !== "ok"
            ? "No signing key is in force: run `npx gatehouse keys rotate`."
            : undefined;
    if (draining) return { ready: false, draining, checks, problem: "This instance is shutting down." };
    return problem === undefined ? { ready: true, draining, checks } : { ready: false, draining, checks, problem };
  };

  return {
    check() {
      if (draining) {
        // Answer at once: no database round trip stands between the signal and the 503.
        const checks = { database: "unknown", schema: "unknown", keys: "unknown" } as const;
        return Promise.resolve({ ready: false, draining, checks, problem: "This instance is shutting down." });
      }
      inFlight ??= run().finally(() => {
        inFlight = undefined;
      });
      return inFlight;
    },
    startDraining() {
      draining = true;
    },
    get draining() {
      return draining;
    },
  };
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}
