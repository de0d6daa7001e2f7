import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { type JsonResponse, request, STRONG_PASSWORD } from "../helpers/http.ts";
import { address, errorOf, type LimitsServer, STORES, startLimitsServer } from "./servers.ts";

/** `GET /auth/sessions`: `?limit=` (default 50, at most 100) and `?before=<cursor>`, newest first. */

interface SessionsPage {
  sessions: { id: string; created_at: string; current: boolean }[];
  next_cursor: string | null;
}

for (const kind of STORES) {
  describe(`GET /auth/sessions is paginated (${kind})`, () => {
    let server: LimitsServer;
    let token: string;
    let currentId: string;
    let userId: string;

    const list = (query = ""): Promise<JsonResponse> =>
      request(`${server.url}/auth/sessions${query}`, { headers: { authorization: `Bearer ${token}` } });

    before(async () => {
      server = await startLimitsServer(kind);
      assert.equal((await server.register("many-devices", address(1))).status, 201);
      const login = await server.login("many-devices", STRONG_PASSWORD, address(2));
      token = (login.body as { access_token: string }).access_token;
      const claims = server.auth.verifyAccessToken(token);
      currentId = claims.sid;
      userId = claims.sub;
      // 59 more live sessions straight in the store (logins would cost a hash each); 7 of them
      // share one millisecond, so the cursor has to break ties.
      const now = Date.now();
      const tie = now - 30_000;
      await server.auth.store.transaction(async (tx) => {
        for (let i = 0; i < 59; i++) {
          const createdAt = i < 7 ? tie : now - 60_000 - i * 1000;
          await tx.insertSession({
            id: randomUUID(),
            userId,
            createdAt,
            lastUsedAt: createdAt,
            absoluteExpiresAt: now + 86_400_000,
            idleExpiresAt: now + 3_600_000,
            endedAt: null,
            endReason: null,
            userAgent: "seeded",
            ip: "192.0.2.1",
          });
        }
      });
    });
    after(() => server?.close());

    it("answers 50 by default, newest first, with a cursor to the rest", async () => {
      const answer = await list();
      assert.equal(answer.status, 200);
      assert.equal(answer.headers.get("cache-control"), "no-store");
      const page = answer.body as SessionsPage;
      assert.equal(page.sessions.length, 50);
      assert.equal(typeof page.next_cursor, "string");
      assert.equal(page.sessions[0]?.id, currentId, "the login is the newest");
      assert.equal(page.sessions[0]?.current, true);
      const times = page.sessions.map((s) => Date.parse(s.created_at));
      assert.deepEqual(
        times,
        [...times].sort((a, b) => b - a),
      );
    });

    it("following next_cursor with ?limit= visits every live session once, in order, then null", async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const answer: JsonResponse = await list(
          `?limit=7${cursor === null ? "" : `&before=${encodeURIComponent(cursor)}`}`,
        );
        assert.equal(answer.status, 200, answer.text);
        const page = answer.body as SessionsPage;
        assert.ok(page.sessions.length <= 7);
        seen.push(...page.sessions.map((s) => s.id));
        cursor = page.next_cursor;
        pages++;
      } while (cursor !== null && pages < 20);
      assert.equal(pages, 9, "60 sessions in pages of 7");
      assert.equal(seen.length, 60);
      assert.equal(new Set(seen).size, 60, "no session twice");
      const all = await server.auth.store.listLiveSessions(userId, Date.now());
      assert.deepEqual(
        seen,
        all.map((s) => s.id),
      );
    });

    it("?limit=100 answers everything at once with next_cursor null", async () => {
      const page = (await list("?limit=100")).body as SessionsPage;
      assert.equal(page.sessions.length, 60);
      assert.equal(page.next_cursor, null);
    });

    it("refuses a bad limit or cursor with 400 invalid_request", async () => {
      const bad = [
        "?limit=0",
        "?limit=101",
        "?limit=-1",
        "?limit=abc",
        "?limit=1.5",
        "?limit=",
        "?limit=1e1",
        "?limit=1&limit=2",
        "?before=not-a-cursor",
        "?before=",
        `?before=${"A".repeat(2000)}`,
        "?before=a&before=b",
        `?before=${Buffer.from(JSON.stringify(["x", 1])).toString("base64url")}`,
      ];
      for (const query of bad) {
        const answer = await list(query);
        assert.equal(answer.status, 400, `${query}: ${answer.status}`);
        assert.equal(errorOf(answer), "invalid_request", query);
        assert.ok(!answer.text.includes("A".repeat(100)), "the cursor is not echoed");
      }
    });
  });
}
