/** Messages between the bench and the server it forks (over the child_process IPC channel). */

/** Process memory, measured right after a full GC (the server runs with --expose-gc). */
export interface MemorySnapshot {
  rssMiB: number;
  heapUsedMiB: number;
}

export interface Credentials {
  username: string;
  password: string;
}

/** Sent once the app listens and its users and sessions exist. */
export interface ReadyMessage {
  type: "ready";
  url: string;
  /** One access token per logged-in session, valid on /protected, /protected-stateless and /seeds. */
  accessTokens: string[];
  /** INTROSPECTION_TOKEN of the server, for POST /auth/introspect. */
  introspectionToken: string;
  /** Accounts for the login flood. */
  loginUsers: Credentials[];
  /** The verify cache's configured capacity. */
  cacheCap: number;
  memory: MemorySnapshot;
}

export type ServerCommand =
  | { id: number; cmd: "memory" }
  /** Insert `count` sessions (with a refresh token each) straight through the store, in batches. */
  | { id: number; cmd: "insert-sessions"; count: number }
  /** Sign one token per inserted session and verify each `perToken` times through the server's own verifier. */
  | { id: number; cmd: "verify-many"; count: number; perToken: number }
  /** Where the server's session checks were answered from (gatehouse.sessionCheckStatus()). */
  | { id: number; cmd: "session-checks" };

export interface InsertSessionsResult {
  inserted: number;
  seconds: number;
  memory: MemorySnapshot;
}

export interface VerifyManyResult {
  verifications: number;
  distinctTokens: number;
  seconds: number;
  /** Tokens still cached afterwards, counted by probing (a hit returns the very same claims object). */
  cacheEntries: number;
  cacheCap: number;
  memory: MemorySnapshot;
}

export type ServerReply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };
