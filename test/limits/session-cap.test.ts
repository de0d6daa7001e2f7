import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { request, STRONG_PASSWORD } from "../helpers/http.ts";
import { address, type LimitsServer, STORES, startLimitsServer } from "./servers.ts";

/** Live sessions per user are capped; at login beyond the cap the oldest end, in the same transaction. */
const CAP = 3;

interface Grant {
  access_token: string;
  refresh_token: string;
}

for (const kind of STORES) {
  describe(`sessions per user are capped (${kind})`, () => {
    let server: LimitsServer;

    before(async () => {
      server = await startLimitsServer(kind, { maxSessionsPerUser: CAP });
    });
    after(() => server?.close());

    const loginForTokens = async (username: string, ip: string): Promise<Grant & { sessionId: string }> => {
      const answer = await request(`${server.url}/auth/login`, {
        method: "POST",
        json: { username, password: STRONG_PASSWORD, token_transport: "body" },
        headers: { "x-forwarded-for": ip },
      });
      assert.equal(answer.status, 200, answer.text);
      const grant = answer.body as Grant;
      return { ...grant, sessionId: server.auth.verifyAccessToken(grant.access_token).sid };
    };

    it("the login past the cap ends the oldest sessions with reason session_limit; the newest stay", async () => {
      assert.equal((await server.register("capped", address(1))).status, 201);
      const grants = [];
      for (let i = 0; i < CAP + 2; i++) grants.push(await loginForTokens("capped", address(2)));
      const listed = await request(`${server.url}/auth/sessions`, {
        headers: { authorization: `Bearer ${grants.at(-1)!.access_token}` },
      });
      const live = (listed.body as { sessions: { id: string }[] }).sessions.map((s) => s.id);
      assert.deepEqual(
        live,
        grants
          .slice(2)
          .reverse()
          .map((g) => g.sessionId),
        "the three newest, newest first",
      );
      for (const oldest of grants.slice(0, 2)) {
        const record = await server.auth.store.findSession(oldest.sessionId);
        assert.ok(record?.endedAt !== null && record?.endedAt !== undefined, "ended, not deleted");
        assert.equal(record.endReason, "session_limit");
        const refreshed = await request(`${server.url}/auth/refresh`, {
          method: "POST",
          json: { refresh_token: oldest.refresh_token },
        });
        assert.equal(refreshed.status, 401);
        assert.equal((refreshed.body as { error: string }).error, "invalid_grant");
      }
    });

    it("parallel logins of one user still leave at most the cap live", async () => {
      assert.equal((await server.register("rushed", address(3))).status, 201);
      const answers = await Promise.all(
        Array.from({ length: 10 }, (_, i) => server.login("rushed", STRONG_PASSWORD, address(20 + i))),
      );
      assert.ok(
        answers.every((answer) => answer.status === 200),
        answers.map((a) => a.status).join(","),
      );
      const user = await server.auth.store.findUserByUsername("rushed");
      const live = await server.auth.store.listLiveSessions(user!.id, Date.now());
      assert.equal(live.length, CAP);
    });
  });
}

describe("the session cap setting", () => {
  it("defaults to 100 and refuses values out of range, naming the option", async () => {
    const { resolveConfig } = await import("../../src/core/config.ts");
    assert.equal(resolveConfig().maxSessionsPerUser, 100);
    assert.throws(() => resolveConfig({ maxSessionsPerUser: 0 }), /maxSessionsPerUser/);
  });
});
