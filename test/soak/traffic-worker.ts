/**
 * One soak traffic process (`node --import tsx test/soak/traffic-worker.ts '<WorkerConfig JSON>'`, forked by
 * soak.test.ts). It registers users, logs them in with refresh tokens in the body (the native-client transport),
 * and until the deadline mixes refresh, me, logout, logout-all and revoke, at most `lanes` requests at a time.
 * It keeps a model of every session (live or ended) and checks each answer against it; one user has one request
 * in flight at a time, so the model is exact. At the end it sends a WorkerReport to the parent and exits.
 */
import { randomBytes, randomInt } from "node:crypto";
import { type Answer, SoakClient } from "./soak-client.ts";
import type { SessionRecord, Surprise, WorkerConfig, WorkerReport } from "./soak-types.ts";

const MAX_USERS = 12;
const MAX_LIVE_SESSIONS_PER_USER = 3;
/** Refresh before the access token (default lifetime 15 minutes) gets anywhere near expiry. */
const ACCESS_TOKEN_REFRESH_AFTER_MS = 5 * 60_000;
/** Revocation reaches every instance within one second; an ended session's access token may pass until then. */
const REVOCATION_WINDOW_MS = 1000;
const THINK_MS = 10;
const KEPT_SURPRISES = 30;

interface Session {
  sid: string;
  access: string;
  accessIssuedAt: number;
  refresh: string;
  state: "live" | "ended";
  endedAt: number;
  probes: number;
}

interface User {
  username: string;
  password: string;
  address: string;
  sessions: Session[];
  busy: boolean;
}

const config = JSON.parse(process.argv[2] ?? "{}") as WorkerConfig;
const client = new SoakClient(config.urls);
const users: User[] = [];
const allSessions: Session[] = [];
const answers: Record<string, number> = {};
const surprises: Surprise[] = [];
let surpriseCount = 0;
let lateRevocations = 0;
let lostLogins = 0;
let registering = 0;

function sidOf(accessToken: string): string {
  const payload = JSON.parse(Buffer.from(accessToken.split(".")[1] ?? "", "base64url").toString()) as { sid?: unknown };
  if (typeof payload.sid !== "string") throw new Error("access token without sid");
  return payload.sid;
}

async function call(route: string, user: User, send: Omit<Parameters<SoakClient["send"]>[0], "address">) {
  const answer = await client.send({ ...send, address: user.address });
  const key = `${route} ${answer.status}`;
  answers[key] = (answers[key] ?? 0) + 1;
  return answer;
}

/** Checks an answer; returns whether it was the expected one. */
function expect(route: string, answer: Answer, statuses: readonly number[], why: string): boolean {
  if (statuses.includes(answer.status)) return true;
  surpriseCount++;
  if (surprises.length < KEPT_SURPRISES) {
    const error = typeof answer.body["error"] === "string" ? answer.body["error"] : undefined;
    surprises.push({
      route,
      status: answer.status,
      expected: `${statuses.join("/")} (${why})`,
      ...(error ? { error } : {}),
    });
  }
  return false;
}

function endSession(session: Session): void {
  if (session.state === "ended") return;
  session.state = "ended";
  session.endedAt = Date.now();
}

function takeGrant(answer: Answer): { access: string; refresh: string } | undefined {
  const access = answer.body["access_token"];
  const refresh = answer.body["refresh_token"];
  return typeof access === "string" && typeof refresh === "string" ? { access, refresh } : undefined;
}

async function register(): Promise<void> {
  const n = users.length + registering;
  registering++;
  try {
    const user: User = {
      username: `soak_${config.id}_${n}_${randomBytes(3).toString("hex")}`,
      password: `soak ${randomBytes(12).toString("hex")} lantern`,
      address: `10.${config.id}.${n >> 8}.${n & 255}`,
      sessions: [],
      busy: false,
    };
    const answer = await call("POST /auth/register", user, {
      method: "POST",
      path: "/auth/register",
      json: { username: user.username, password: user.password },
    });
    // A retried registration may meet the account its first try created.
    const ok = expect("POST /auth/register", answer, answer.retried ? [201, 409] : [201], "new account");
    if (ok) users.push(user);
  } finally {
    registering--;
  }
}

async function login(user: User): Promise<void> {
  const answer = await call("POST /auth/login", user, {
    method: "POST",
    path: "/auth/login",
    json: { username: user.username, password: user.password, token_transport: "body" },
  });
  if (answer.retried) lostLogins++;
  if (!expect("POST /auth/login", answer, [200], "right password")) return;
  const grant = takeGrant(answer);
  if (!grant) return void expect("POST /auth/login", { ...answer, status: -1 }, [200], "tokens in the body");
  const session: Session = {
    sid: sidOf(grant.access),
    access: grant.access,
    accessIssuedAt: Date.now(),
    refresh: grant.refresh,
    state: "live",
    endedAt: 0,
    probes: 0,
  };
  user.sessions.push(session);
  allSessions.push(session);
}

async function refresh(user: User, session: Session): Promise<void> {
  const answer = await call("POST /auth/refresh", user, {
    method: "POST",
    path: "/auth/refresh",
    json: { refresh_token: session.refresh },
  });
  if (!expect("POST /auth/refresh", answer, [200], "live session")) return;
  const grant = takeGrant(answer);
  if (!grant || sidOf(grant.access) !== session.sid) {
    return void expect("POST /auth/refresh", { ...answer, status: -1 }, [200], "same session continues");
  }
  session.access = grant.access;
  session.refresh = grant.refresh;
  session.accessIssuedAt = Date.now();
}

async function me(user: User, session: Session): Promise<void> {
  const answer = await call("GET /auth/me", user, { method: "GET", path: "/auth/me", bearer: session.access });
  if (!expect("GET /auth/me", answer, [200], "live session")) return;
  if (answer.body["session_id"] !== session.sid) expect("GET /auth/me", { ...answer, status: -1 }, [200], "own sid");
}

async function logout(user: User, session: Session): Promise<void> {
  // Half by refresh token in the body, half by bearer: both end this one session.
  const byBearer = randomInt(2) === 0;
  const answer = await call("POST /auth/logout", user, {
    method: "POST",
    path: "/auth/logout",
    ...(byBearer ? { bearer: session.access, json: {} } : { json: { refresh_token: session.refresh } }),
  });
  if (expect("POST /auth/logout", answer, [204], "live session")) endSession(session);
}

async function logoutAll(user: User, session: Session): Promise<void> {
  const answer = await call("POST /auth/logout-all", user, {
    method: "POST",
    path: "/auth/logout-all",
    bearer: session.access,
    json: {},
  });
  if (expect("POST /auth/logout-all", answer, [204], "live session")) for (const s of user.sessions) endSession(s);
}

async function revoke(user: User, session: Session): Promise<void> {
  const token = randomInt(2) === 0 ? session.refresh : session.access;
  const answer = await call("POST /auth/revoke", user, { method: "POST", path: "/auth/revoke", form: { token } });
  if (expect("POST /auth/revoke", answer, [200], "RFC 7009")) endSession(session);
}

/** An ended session's tokens must be refused: the only 401s the soak expects. */
async function probeEnded(user: User, session: Session): Promise<void> {
  session.probes++;
  if (randomInt(2) === 0) {
    const answer = await call("POST /auth/refresh", user, {
      method: "POST",
      path: "/auth/refresh",
      json: { refresh_token: session.refresh },
    });
    expect("POST /auth/refresh", answer, [401], "ended session");
    return;
  }
  const sentAt = Date.now();
  const answer = await call("GET /auth/me", user, { method: "GET", path: "/auth/me", bearer: session.access });
  if (answer.status === 200 && sentAt - session.endedAt < REVOCATION_WINDOW_MS) lateRevocations++;
  else expect("GET /auth/me", answer, [401], "ended session");
}

function pick<T>(items: readonly T[]): T | undefined {
  return items.length === 0 ? undefined : items[randomInt(items.length)];
}

/** One request for an idle user, chosen by weight among what the model allows. */
async function step(user: User): Promise<void> {
  const live = user.sessions.filter((s) => s.state === "live");
  const ended = user.sessions.filter((s) => s.state === "ended");
  const session = pick(live);
  if (!session) return login(user);
  if (Date.now() - session.accessIssuedAt > ACCESS_TOKEN_REFRESH_AFTER_MS) return refresh(user, session);
  const roll = randomInt(100);
  if (roll < 10 && live.length < MAX_LIVE_SESSIONS_PER_USER) return login(user);
  if (roll < 40) return refresh(user, session);
  if (roll < 70) return me(user, session);
  if (roll < 78) return logout(user, session);
  if (roll < 81) return logoutAll(user, session);
  if (roll < 87 && config.revoke) return revoke(user, session);
  const old = pick(ended);
  if (old) return probeEnded(user, old);
  return me(user, session);
}

/** Ended sessions that were probed twice leave the user's list (they stay in the report). */
function forgetProbed(user: User): void {
  user.sessions = user.sessions.filter((s) => s.state === "live" || s.probes < 2);
}

async function lane(): Promise<void> {
  while (Date.now() < config.deadline) {
    const idle = users.filter((u) => !u.busy);
    if (users.length + registering < 4 || (users.length + registering < MAX_USERS && randomInt(20) === 0)) {
      await register();
    } else {
      const user = pick(idle);
      if (user) {
        user.busy = true;
        try {
          await step(user);
        } finally {
          forgetProbed(user);
          user.busy = false;
        }
      }
    }
    await new Promise((resolve) => setTimeout(resolve, THINK_MS));
  }
}

async function main(): Promise<void> {
  await Promise.all(Array.from({ length: config.lanes }, lane));
  const sessions: SessionRecord[] = allSessions.map((s) => ({ sid: s.sid, state: s.state }));
  const report: WorkerReport = {
    id: config.id,
    answers,
    surprises,
    surpriseCount,
    retries: client.retries,
    lateRevocations,
    sessions,
    lostLogins,
  };
  process.send?.(report, () => process.exit(0));
}

main().catch((error: unknown) => {
  console.error(`soak worker ${config.id} failed:`, error);
  process.exit(1);
});
