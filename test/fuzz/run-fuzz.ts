import fc from "fast-check";
import { type FuzzProfile, fuzzRequest } from "./arbitraries.ts";
import { CredentialPool } from "./credentials.ts";
import type { FuzzTarget } from "./fuzz-target.ts";
import { type CheckContext, checkExchange, findLogLeaks, type Violation } from "./invariants.ts";
import { type ConcreteRequest, describeBytes, type Facts, materialize, type Secret } from "./materialize.ts";
import type { FuzzRequest } from "./request-model.ts";
import { type RawOutcome, type RawResponse, sendRaw, simpleRequest } from "./raw-http.ts";

export interface FuzzOptions {
  seed: number;
  runs: number;
  profile: FuzzProfile;
  /** fast-check's replay path of a reported counterexample. */
  path?: string | undefined;
}

export interface FuzzSummary {
  requests: number;
  /** How many answers had each status (coverage at a glance). */
  statuses: Map<number, number>;
  /** Answers 2xx to a request carrying one of the pool's genuine tokens. */
  genuineSuccesses: number;
  /** Logins the test made for fresh tokens. */
  poolLogins: number;
  /** Error codes answered, by "METHOD route" (which refusals each route was driven into). */
  errorCodes: Map<string, Set<string>>;
}

/** Thrown by the property: the invariants broken, the bytes sent and what came back. */
export class FuzzFailure extends Error {
  constructor(
    readonly violations: Violation[],
    request: ConcreteRequest,
    outcome: RawOutcome,
  ) {
    super(
      [
        `${violations.length} invariant(s) broken:`,
        ...violations.map((v) => `  - ${v.rule}: ${v.detail}`),
        "Request sent:",
        describeBytes(request.bytes),
        "Answer:",
        outcome.response ? describeBytes(responseBytes(outcome.response)) : `(none: ${outcome.failure})`,
      ].join("\n"),
    );
  }
}

function errorCodeOf(response: RawResponse | undefined): string | undefined {
  try {
    const code = (JSON.parse(response?.body.toString("utf8") ?? "") as { error?: unknown }).error;
    return typeof code === "string" ? code : undefined;
  } catch {
    return undefined;
  }
}

function responseBytes(response: RawResponse): Buffer {
  const lines = [`${response.status} ${response.reason}`, ...response.headers.map(([n, v]) => `${n}: ${v}`)];
  const head = lines.join("\r\n");
  return Buffer.concat([Buffer.from(`${head}\r\n\r\n`, "latin1"), response.body]);
}

/** One request through the whole pipeline: resolve, send, check answer and log. */
export class FuzzSession {
  readonly summary: FuzzSummary = {
    requests: 0,
    statuses: new Map(),
    genuineSuccesses: 0,
    poolLogins: 0,
    errorCodes: new Map(),
  };
  readonly #target: FuzzTarget;
  readonly #ctx: CheckContext;
  readonly #reflected = new Set<string>();
  #previousSecrets: Secret[] = [];

  private constructor(target: FuzzTarget, pool: CredentialPool) {
    this.#target = target;
    this.#ctx = { pool, reflected: [] };
  }

  static async open(target: FuzzTarget): Promise<FuzzSession> {
    const pool = new CredentialPool(target.port, target.server.auth);
    await pool.setUp();
    return new FuzzSession(target, pool);
  }

  get pool(): CredentialPool {
    return this.#ctx.pool;
  }

  /** Sends one generated request; returns what broke (empty when all held). */
  async exchange(
    request: FuzzRequest,
  ): Promise<{ violations: Violation[]; concrete: ConcreteRequest; outcome: RawOutcome }> {
    const pool = this.#ctx.pool;
    const concrete = await materialize(request, pool, this.#target.port);
    for (const value of concrete.reflected) {
      if (!this.#reflected.has(value)) {
        this.#reflected.add(value);
        this.#ctx.reflected.push(value);
      }
    }
    const logs = this.#target.server.logs;
    const logStart = logs.length;
    const outcome = await sendRaw(this.#target.port, concrete.bytes, {
      head: concrete.facts.head,
      pipelinedHealthChecks: concrete.facts.pipelinedHealthChecks,
      timeoutMs: 15_000,
    });
    // Log lines are written when the response finishes; let that callback run first.
    await new Promise((resolve) => setImmediate(resolve));
    const lines = logs.slice(logStart);
    const violations = [
      ...checkExchange(this.#ctx, concrete, outcome),
      ...findLogLeaks(this.#ctx, [...concrete.secrets, ...this.#previousSecrets], lines),
    ];
    this.#previousSecrets = concrete.secrets;

    const status = outcome.response?.status ?? 0;
    this.summary.requests++;
    this.summary.statuses.set(status, (this.summary.statuses.get(status) ?? 0) + 1);
    if (concrete.facts.genuinePoolTokens.length > 0 && status >= 200 && status < 300) this.summary.genuineSuccesses++;
    const code = status >= 400 ? errorCodeOf(outcome.response) : undefined;
    if (code !== undefined) {
      const key = `${concrete.facts.method} ${concrete.facts.route}`;
      const codes = this.summary.errorCodes.get(key) ?? new Set<string>();
      this.summary.errorCodes.set(key, codes.add(code));
    }
    this.#followPoolSessions(concrete.facts, outcome);
    this.summary.poolLogins = pool.logins;
    return { violations, concrete, outcome };
  }

  /** Keeps the pool's session usable: take over a rotation the request caused, or log in again if it may have ended. */
  #followPoolSessions(f: Facts, outcome: RawOutcome): void {
    const pool = this.#ctx.pool;
    const status = outcome.response?.status ?? 0;
    const used = f.genuinePoolTokens;
    const presented = f.bodyRefreshToken ?? f.refreshCookieValues[0];
    const refreshed = f.method === "POST" && f.route === "/auth/refresh" && status === 200 && outcome.response;
    const adopted = refreshed && presented !== undefined && pool.adopt(presented, refreshed);
    // Reading never ends a session; a write with a genuine token may have (logout, password change),
    // and so may a refused refresh or logout (reuse of a retired token ends the session it belonged to).
    const endsOn401 = f.method === "POST" && (f.route === "/auth/refresh" || f.route === "/auth/logout");
    const mayHaveEnded = status < 300 || (endsOn401 && status === 401);
    if (used.length > 0 && !["GET", "HEAD", "OPTIONS"].includes(f.method) && !adopted && mayHaveEnded) {
      const everySession = status < 300 && (f.route === "/auth/logout-all" || f.route === "/auth/password");
      pool.sessionsMayHaveEnded(used, everySession);
    }
    if (f.newPasswordForPool !== undefined && status === 204 && f.route === "/auth/password") {
      pool.passwordChanged(f.newPasswordForPool);
    }
  }

  /** The server still answers a plain health check. */
  async healthy(): Promise<boolean> {
    try {
      const answer = await simpleRequest(this.#target.port, { method: "GET", path: "/healthz" });
      return answer.status === 200 && (answer.json as { status?: string } | undefined)?.status === "ok";
    } catch {
      return false;
    }
  }
}

/**
 * Runs `runs` generated requests against the target with fast-check. On a broken invariant
 * fast-check shrinks the request to a minimal one and throws with the seed and replay path.
 */
export async function fuzzHttpSurface(target: FuzzTarget, options: FuzzOptions): Promise<FuzzSummary> {
  const session = await FuzzSession.open(target);
  // fast-check runs until the first failure, then only shrinks: every later failing call is a
  // shrink candidate. Accept a candidate only if it breaks one of the same rules, so the
  // minimal example shown is of the failure found, not of another one met on the way.
  let firstRules: Set<string> | undefined;
  const property = fc.asyncProperty(fuzzRequest(options.profile), async (request) => {
    const { violations, concrete, outcome } = await session.exchange(request);
    if (violations.length === 0) return;
    firstRules ??= new Set(violations.map((v) => v.rule));
    if (!violations.some((v) => firstRules!.has(v.rule))) return;
    throw new FuzzFailure(violations, concrete, outcome);
  });
  await fc.assert(property, {
    seed: options.seed,
    numRuns: options.runs,
    includeErrorInReport: true,
    ...(options.path === undefined ? {} : { path: options.path }),
  });
  if (!(await session.healthy())) throw new Error("the server no longer answers GET /healthz after the run");
  const leaked = session.pool
    .everySecret()
    .filter((secret) => target.server.logs.some((line) => line.includes(secret)));
  if (leaked.length > 0)
    throw new Error(
      `the server log holds ${leaked.length} of the test account's passwords or tokens, e.g. ${leaked[0]}`,
    );
  return session.summary;
}
