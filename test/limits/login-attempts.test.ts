import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { STRONG_PASSWORD } from "../helpers/http.ts";
import { address, errorOf, type LimitsServer, STORES, startLimitsServer, statusCounts } from "./servers.ts";

/**
 * Every login attempt, right or wrong, is counted before its password is checked, atomically,
 * in the store's counters (PostgreSQL: one shared table; SQLite: this process's memory). The
 * number of argon2 computations is read from the server's own hashing counter, so these tests
 * prove how many passwords were really checked, not just what the answers said.
 */
const PER_ACCOUNT_AND_IP = 5;
const PER_ACCOUNT = 8;
const PER_IP = 6;

for (const kind of STORES) {
  describe(`login attempts are limited before hashing (${kind})`, () => {
    let server: LimitsServer;

    before(async () => {
      server = await startLimitsServer(kind, {
        loginThrottle: {
          perAccountAndIp: { attempts: PER_ACCOUNT_AND_IP, windowSeconds: 900, blockSeconds: 900 },
          perIp: { attempts: 1000 },
        },
        loginRate: {
          perIp: { attempts: 1000, windowSeconds: 60 },
          perAccount: { attempts: PER_ACCOUNT, windowSeconds: 3600 },
        },
        // Room for every request in the hashing queue: only the login limits may refuse here.
        argon2: { maxPerAddress: 100, maxQueued: 1000 },
      });
    });
    after(() => server?.close());

    const hashesDuring = async <T>(work: () => Promise<T>): Promise<{ result: T; hashes: number }> => {
      const before = server.auth.passwordHashing.started;
      const result = await work();
      return { result, hashes: server.auth.passwordHashing.started - before };
    };

    it("50 parallel wrong passwords for one account from one address: at most the limit is checked", async () => {
      assert.equal((await server.register("target-one", address(1))).status, 201);
      const { result, hashes } = await hashesDuring(() =>
        Promise.all(
          Array.from({ length: 50 }, (_, i) => server.login("target-one", `wrong password number ${i}`, address(2))),
        ),
      );
      const counts = statusCounts(result);
      assert.ok(hashes >= 1 && hashes <= PER_ACCOUNT_AND_IP, `${hashes} password checks`);
      assert.equal(counts[401] ?? 0, hashes, "each check that ran answered 401");
      assert.equal((counts[401] ?? 0) + (counts[429] ?? 0), 50, JSON.stringify(counts));
      for (const refused of result.filter((response) => response.status === 429)) {
        assert.equal(errorOf(refused), "too_many_requests");
        assert.ok(Number(refused.headers.get("retry-after")) >= 1);
      }
    });

    it("50 parallel wrong passwords for one account from 50 addresses: at most the limit is checked", async () => {
      assert.equal((await server.register("target-many", address(3))).status, 201);
      const { result, hashes } = await hashesDuring(() =>
        Promise.all(
          Array.from({ length: 50 }, (_, i) => server.login("target-many", `wrong password ${i}`, address(100 + i))),
        ),
      );
      const counts = statusCounts(result);
      assert.ok(hashes >= 1 && hashes <= PER_ACCOUNT, `${hashes} password checks`);
      assert.equal(counts[401] ?? 0, hashes);
      assert.equal((counts[401] ?? 0) + (counts[429] ?? 0), 50, JSON.stringify(counts));
    });

    it("right passwords count too: an account's logins from new addresses stop at the per-account limit", async () => {
      assert.equal((await server.register("popular", address(4))).status, 201);
      const { result, hashes } = await hashesDuring(async () => {
        const answers = [];
        for (let i = 0; i < PER_ACCOUNT + 3; i++)
          answers.push(await server.login("popular", STRONG_PASSWORD, address(160 + i)));
        return answers;
      });
      assert.deepEqual(
        result.map((response) => response.status),
        [...Array<number>(PER_ACCOUNT).fill(200), 429, 429, 429],
      );
      assert.equal(hashes, PER_ACCOUNT);
    });

    it("while strangers hold an account's limit, its owner still logs in from an address used before", async () => {
      assert.equal((await server.register("besieged", address(5))).status, 201);
      const home = address(6);
      assert.equal((await server.login("besieged", STRONG_PASSWORD, home)).status, 200);
      await Promise.all(
        Array.from({ length: PER_ACCOUNT + 4 }, (_, i) => server.login("besieged", `guess ${i}`, address(200 + i))),
      );
      const stranger = await server.login("besieged", STRONG_PASSWORD, address(230));
      assert.equal(stranger.status, 429, "a new address waits, even with the right password");
      assert.ok(Number(stranger.headers.get("retry-after")) > 0);
      const owner = await server.login("besieged", STRONG_PASSWORD, home);
      assert.equal(owner.status, 200, "the owner's usual address is not locked out");
    });
  });

  describe(`every login attempt from one address is limited (${kind})`, () => {
    let server: LimitsServer;

    before(async () => {
      server = await startLimitsServer(kind, {
        loginRate: { perIp: { attempts: PER_IP, windowSeconds: 60 } },
        argon2: { maxPerAddress: 100 },
      });
    });
    after(() => server?.close());

    it("a burst of right passwords from one address is refused with 429 past the limit, hashing nothing", async () => {
      const users = Array.from({ length: PER_IP + 4 }, (_, i) => `burst-user-${i}`);
      for (const [i, user] of users.entries()) assert.equal((await server.register(user, address(10 + i))).status, 201);
      const started = server.auth.passwordHashing.started;
      const answers = [];
      for (const user of users) answers.push(await server.login(user, STRONG_PASSWORD, address(9)));
      assert.deepEqual(
        answers.map((response) => response.status),
        [...Array<number>(PER_IP).fill(200), 429, 429, 429, 429],
      );
      assert.equal(server.auth.passwordHashing.started - started, PER_IP);
      const refused = answers.at(-1)!;
      assert.equal(errorOf(refused), "too_many_requests");
      const retryAfter = Number(refused.headers.get("retry-after"));
      assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
      // Another address is not affected.
      assert.equal((await server.login(users[0]!, STRONG_PASSWORD, address(8))).status, 200);
    });
  });
}
