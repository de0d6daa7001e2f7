import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { request, STRONG_PASSWORD } from "../helpers/http.ts";
import { address, errorOf, type LimitsServer, startLimitsServer } from "./servers.ts";

/**
 * A costly hash (64 MiB, 4 passes: a quarter of a second or more) holds the only hashing slot
 * long enough for a second request to meet a busy server every time.
 */
const SLOW_ARGON2 = { memoryCost: 65_536, timeCost: 4, parallelism: 1 } as const;

describe("a full password-hashing queue answers 429, never 401", () => {
  let server: LimitsServer;

  before(async () => {
    server = await startLimitsServer("sqlite", {
      argon2: { ...SLOW_ARGON2, maxConcurrent: 1, maxQueued: 0, maxPerAddress: 100 },
      // One counted failure would block the account at this address: a queue refusal must not count.
      loginThrottle: { perAccountAndIp: { attempts: 1, windowSeconds: 900, blockSeconds: 900 } },
    });
    assert.equal((await server.register("queue-first", address(1))).status, 201);
    assert.equal((await server.register("queue-second", address(2))).status, 201);
  });
  after(() => server?.close());

  it("a right password meeting a full queue gets 429 too_many_requests with Retry-After, not a failure", async () => {
    const answers = await Promise.all([
      server.login("queue-first", STRONG_PASSWORD, address(3)),
      server.login("queue-second", STRONG_PASSWORD, address(3)),
    ]);
    const statuses = answers.map((answer) => answer.status).sort();
    assert.deepEqual(statuses, [200, 429], "one is hashed, the other is told the server is busy");
    const busy = answers.find((answer) => answer.status === 429)!;
    assert.equal(errorOf(busy), "too_many_requests");
    assert.equal(busy.headers.get("retry-after"), "1");
    assert.match((busy.body as { message: string }).message, /busy/);
    // Had the busy answer counted as a failed login, that account would now be blocked here.
    assert.equal((await server.login("queue-first", STRONG_PASSWORD, address(3))).status, 200);
    assert.equal((await server.login("queue-second", STRONG_PASSWORD, address(3))).status, 200);
  });
});

describe("password hashing per client address is bounded", () => {
  let server: LimitsServer;
  const users = ["hog-a", "hog-b", "hog-c", "hog-d", "hog-e"];

  before(async () => {
    server = await startLimitsServer("sqlite", {
      argon2: { ...SLOW_ARGON2, maxConcurrent: 1, maxQueued: 100, maxPerAddress: 1 },
    });
    for (const [i, user] of [...users, "neighbour"].entries()) {
      assert.equal((await server.register(user, address(20 + i))).status, 201);
    }
  });
  after(() => server?.close());

  it("one address gets one hash at a time and 429 for the rest; another address is still served", async () => {
    const hog = address(40);
    const flood = Promise.all(users.map((user) => server.login(user, STRONG_PASSWORD, hog)));
    const neighbour = server.login("neighbour", STRONG_PASSWORD, address(41));
    const answers = await flood;
    assert.equal((await neighbour).status, 200, "the other address's login waits its turn and succeeds");
    const statuses = answers.map((answer) => answer.status).sort();
    assert.deepEqual(statuses, [200, 429, 429, 429, 429]);
    for (const refused of answers.filter((answer) => answer.status === 429)) {
      assert.equal(errorOf(refused), "too_many_requests");
      assert.equal(refused.headers.get("retry-after"), "1");
    }
    // Nothing was counted as a failure: each account logs in from that address afterwards.
    for (const user of users) assert.equal((await server.login(user, STRONG_PASSWORD, hog)).status, 200);
  });

  it("registrations and password changes share the same per-address budget", async () => {
    const hog = address(42);
    const registrations = await Promise.all(
      ["reg-a", "reg-b", "reg-c"].map((username) =>
        request(`${server.url}/auth/register`, {
          method: "POST",
          json: { username, password: STRONG_PASSWORD },
          headers: { "x-forwarded-for": hog },
        }),
      ),
    );
    assert.deepEqual(registrations.map((answer) => answer.status).sort(), [201, 429, 429]);

    const login = await server.login("hog-a", STRONG_PASSWORD, address(43));
    const token = (login.body as { access_token: string }).access_token;
    const change = (newPassword: string) =>
      request(`${server.url}/auth/password`, {
        method: "POST",
        json: { current_password: STRONG_PASSWORD, new_password: newPassword },
        headers: { authorization: `Bearer ${token}`, "x-forwarded-for": hog },
      });
    // A login from the same address holds its one slot while the change asks for one.
    const [held, changed] = await Promise.all([
      server.login("hog-b", STRONG_PASSWORD, hog),
      change("a different long passphrase 77"),
    ]);
    const statuses = [held.status, changed.status];
    assert.equal(statuses.filter((status) => status === 429).length, 1, `one refused: ${statuses.join(", ")}`);
    assert.ok(held.status === 200 || changed.status === 204, `the other is served: ${statuses.join(", ")}`);
  });
});
