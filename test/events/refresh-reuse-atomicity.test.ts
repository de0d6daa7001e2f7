import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import Database from "better-sqlite3";
import { ManualClock } from "../../src/core/clock.ts";
import type { MailTransport, OutgoingMail } from "../../src/core/mail/mail-transport.ts";
import { openPostgresStore } from "../../src/store/postgres/driver.ts";
import { request, STRONG_PASSWORD } from "../helpers/http.ts";
import { createThrowawaySchema, type ThrowawaySchema } from "../helpers/postgres-schema.ts";
import { startTestServer, type TestServer } from "../helpers/test-server.ts";
import { eventually } from "./eventually.ts";
import { WebhookReceiver } from "./webhook-receiver.ts";

/** The test's own connection to the server's database, beside the server's (to count rows and add triggers). */
interface SideDoor {
  exec(sql: string): Promise<void>;
  count(sql: string): Promise<number>;
  close(): Promise<void>;
}

function sqliteSideDoor(path: string): SideDoor {
  const db = new Database(path, { timeout: 5000 });
  return {
    exec: async (sql) => void db.exec(sql),
    count: async (sql) => (db.prepare(sql).get() as { n: number }).n,
    close: async () => void db.close(),
  };
}

function postgresSideDoor(schema: ThrowawaySchema): SideDoor {
  const run = (sql: string) => schema.admin.query(`SET search_path TO ${schema.schema}; ${sql}`);
  return {
    exec: async (sql) => void (await run(sql)),
    count: async (sql) => {
      const results = (await run(sql)) as unknown as { rows: { n: string }[] }[];
      return Number(results[1]?.rows[0]?.n);
    },
    close: () => schema.drop(),
  };
}

/** A trigger that makes every audit insert fail inside whatever transaction runs it. */
const REFUSE_AUDIT = {
  sqlite: {
    add: `CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events
          BEGIN SELECT RAISE(ABORT, 'the audit trail refuses writes'); END`,
    drop: "DROP TRIGGER refuse_audit",
  },
  postgres: {
    add: `CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS
            $$ BEGIN RAISE EXCEPTION 'the audit trail refuses writes'; END $$;
          CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION refuse_audit()`,
    drop: "DROP TRIGGER refuse_audit ON audit_events; DROP FUNCTION refuse_audit()",
  },
};

const NOTICE_SUBJECT = "A session of yours was ended";

/**
 * A reused refresh token ends its session, records refresh_reused (audit row and webhook) and
 * queues the notice mail: all in one commit, so no failure or crash can leave the session ended
 * without its event and notice, nor record either for a session that was not ended.
 */
for (const database of ["sqlite", "postgres"] as const) {
  describe(`refresh-token reuse on ${database}: the ending, its event and its notice commit together`, () => {
    const clock = new ManualClock(Date.UTC(2030, 0, 1));
    const receiver = new WebhookReceiver();
    const mails: OutgoingMail[] = [];
    const transport: MailTransport = {
      description: "memory",
      send: async (mail) => void mails.push(mail),
      close: () => undefined,
    };
    let server: TestServer;
    let side: SideDoor;

    before(async () => {
      await receiver.start();
      const schema = database === "postgres" ? await createThrowawaySchema("gatehouse_reuse") : undefined;
      server = await startTestServer({
        clock,
        refreshGraceSeconds: 0,
        publicUrl: "https://app.example.test",
        mailTransport: transport,
        webhook: { url: receiver.url, secret: receiver.secret },
        outbox: { retryBaseSeconds: 1, retryMaxSeconds: 2 },
        ...(schema ? { store: openPostgresStore(schema.url, { schema: schema.schema }) } : {}),
      });
      side = schema ? postgresSideDoor(schema) : sqliteSideDoor(server.databasePath);
    });
    after(async () => {
      await server?.close();
      await side?.close();
      await receiver.stop();
    });

    const refresh = (token: string) =>
      request(`${server.url}/auth/refresh`, { method: "POST", json: { refresh_token: token } });
    /** A user with a verified address, logged in once and refreshed once: its first token is now retired. */
    const retiredToken = async () => {
      const username = `u${randomBytes(5).toString("hex")}`;
      const email = `${username}@example.test`;
      const registered = await request(`${server.url}/auth/register`, {
        method: "POST",
        json: { username, password: STRONG_PASSWORD },
      });
      assert.equal(registered.status, 201);
      const userId = (registered.body as { user: { id: string } }).user.id;
      await server.auth.store.setUserEmail(userId, email, clock.now());
      const login = await request(`${server.url}/auth/login`, {
        method: "POST",
        json: { username, password: STRONG_PASSWORD, token_transport: "body" },
      });
      const { access_token: access, refresh_token: first } = login.body as Record<string, string>;
      const me = await request(`${server.url}/auth/me`, { headers: { authorization: `Bearer ${access}` } });
      const sessionId = (me.body as { session_id: string }).session_id;
      const rotated = await refresh(first!);
      assert.equal(rotated.status, 200);
      clock.advance(1000);
      return { email, sessionId, first: first!, successor: (rotated.body as { refresh_token: string }).refresh_token };
    };
    const reuseEvents = async (sessionId: string) =>
      (await server.auth.store.listAuditEvents({ type: "refresh_reused", limit: 50 })).filter(
        (event) => event.sessionId === sessionId,
      );
    const outboxRows = async () => ({
      mail: await side.count("SELECT COUNT(*) AS n FROM outbox WHERE kind = 'mail'"),
      webhook: await side.count("SELECT COUNT(*) AS n FROM outbox WHERE kind = 'webhook'"),
    });
    const noticesTo = (email: string) => mails.filter((mail) => mail.to === email && mail.subject === NOTICE_SUBJECT);
    const reuseWebhooks = (sessionId: string) =>
      receiver.received.filter((hook) => {
        const body = JSON.parse(hook.body) as { type?: string; data?: { session_id?: string } };
        return body.type === "refresh_reused" && body.data?.session_id === sessionId;
      });

    it("if the event cannot be written: 503, nothing ended or queued; the next reuse records it once", async () => {
      const { email, sessionId, first, successor } = await retiredToken();
      const queued = await outboxRows();

      await side.exec(REFUSE_AUDIT[database].add);
      try {
        const refused = await refresh(first);
        assert.equal(refused.status, 503);
        assert.equal((refused.body as { error: string }).error, "unavailable");
      } finally {
        await side.exec(REFUSE_AUDIT[database].drop);
      }
      assert.equal((await server.auth.store.findSession(sessionId))?.endedAt, null, "the session is not ended");
      assert.deepEqual(await reuseEvents(sessionId), []);
      assert.deepEqual(await outboxRows(), queued, "no webhook, no notice queued");

      const reused = await refresh(first);
      assert.equal(reused.status, 401);
      assert.equal((reused.body as { error: string }).error, "invalid_grant");
      assert.equal((await server.auth.store.findSession(sessionId))?.endReason, "refresh_token_reuse");
      assert.equal((await reuseEvents(sessionId)).length, 1);
      assert.deepEqual(await outboxRows(), { mail: queued.mail + 1, webhook: queued.webhook + 1 });
      assert.equal((await refresh(successor)).status, 401, "the newest token of the session stops working too");

      await eventually(() => noticesTo(email).length > 0 && reuseWebhooks(sessionId).length > 0);
      assert.equal(noticesTo(email).length, 1);
    });

    it("ten reuses of one token at once: the session ends once, with one event and one notice", async () => {
      const { email, sessionId, first } = await retiredToken();
      const queued = await outboxRows();
      const answers = await Promise.all(Array.from({ length: 10 }, () => refresh(first)));
      assert.deepEqual(
        answers.map((answer) => answer.status),
        Array.from({ length: 10 }, () => 401),
      );
      assert.equal((await server.auth.store.findSession(sessionId))?.endReason, "refresh_token_reuse");
      assert.equal((await reuseEvents(sessionId)).length, 1);
      assert.deepEqual(await outboxRows(), { mail: queued.mail + 1, webhook: queued.webhook + 1 });
      await eventually(() => noticesTo(email).length > 0);
      assert.equal(noticesTo(email).length, 1);
    });
  });
}
