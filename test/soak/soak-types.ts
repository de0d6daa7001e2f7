/** What the soak test and its traffic workers exchange (argv in, one IPC message out). */

export interface WorkerConfig {
  /** Small number naming the worker; also the second octet of its users' client addresses. */
  id: number;
  /** The two instances, used round-robin per request. */
  urls: [string, string];
  /** When the worker stops starting new requests (epoch milliseconds). */
  deadline: number;
  /** Requests in flight at most. */
  lanes: number;
  /** Whether `POST /auth/revoke` (RFC 7009) is part of the traffic. */
  revoke: boolean;
}

/** One answer the model did not expect. */
export interface Surprise {
  route: string;
  status: number;
  expected: string;
  /** The error code of a JSON error body (never a token: success bodies are not kept). */
  error?: string;
}

export interface SessionRecord {
  sid: string;
  state: "live" | "ended";
}

export interface WorkerReport {
  id: number;
  /** "route status" → count, e.g. "POST /auth/refresh 200". */
  answers: Record<string, number>;
  surprises: Surprise[];
  surpriseCount: number;
  /** Requests that never reached a server (connection refused/reset) and were sent again to the other instance. */
  retries: number;
  /** Access tokens of an ended session still accepted less than a second after it ended (allowed window). */
  lateRevocations: number;
  sessions: SessionRecord[];
  /** Logins whose answer was lost to a reset connection: their sessions are unknown to the model. */
  lostLogins: number;
}
