import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { openPostgresStore } from "../../src/store/postgres/driver.ts";
import { request } from "../helpers/http.ts";
import { createThrowawaySchema, type ThrowawaySchema } from "../helpers/postgres-schema.ts";
import { bearer, type Instance, type Login, login, randomPassword, register, startInstance } from "./instances.ts";

/**
 * The change feed's connection dies (its PostgreSQL backend is terminated, as a failover or an
 * administrator would): while the instances reconnect and catch up, no ended session's token
 * may be accepted, and once they are back they know, from memory, every session that ended
 * meanwhile.
 */
describe("the change feed's connection is cut (pg_terminate_backend)", () => {
  let db: ThrowawaySchema;
  let instances: [Instance, Instance, Instance];

  before(async () => {
    db = await createThrowawaySchema("gatehouse_outage");
    instances = (await Promise.all(
      [0, 1, 2].map(() => startInstance({ store: openPostgresStore(db.url, { schema: db.schema }) })),
    )) as [Instance, Instance, Instance];
  });
  after(async () => {
    await Promise.all((instances ?? []).map((instance) => instance.close()));
    await db?.drop();
  });

  /** Terminates the feed connection of every instance on this schema (and nothing else); how many it ended. */
  const cutFeeds = async (): Promise<number> => {
    // Find first, terminate after: only rows that are this schema's feeds, never another connection.
    const { rows } = await db.admin.query<{ pid: number }>(
      "SELECT pid FROM pg_stat_activity WHERE application_name = $1",
      [`gatehouse feed ${db.schema}`],
    );
    for (const { pid } of rows) await db.admin.query("SELECT pg_terminate_backend($1)", [pid]);
    return rows.length;
  };
  const fromMemory = (instance: Instance) => instance.auth.sessionCheckStatus().answersFromMemory;

  it("no revoked token is accepted while they reconnect; afterwards they know every ending from memory", async (t) => {
    const [a, b, c] = instances;
    const username = `u${randomBytes(5).toString("hex")}`;
    const password = randomPassword();
    await register(a, username, password);
    const sessions: Login[] = [];
    for (let n = 0; n < 12; n++) sessions.push(await login(b, username, password));
    const survivor = await login(c, username, password);
    for (const session of sessions)
      assert.deepEqual([await b.orders(session.accessToken), await c.orders(session.accessToken)], [200, 200]);
    assert.ok(fromMemory(b) && fromMemory(c), "answering from memory before the cut");

    assert.equal(await cutFeeds(), 3, "one feed connection per instance");
    // Revoke during the outage and check at once, again and again, until both are back.
    const revoked: Login[] = [];
    let checksWhileDown = 0;
    while (sessions.length > 0 && (revoked.length === 0 || !fromMemory(b) || !fromMemory(c))) {
      const session = sessions.shift()!;
      const res = await request(`${a.url}/auth/logout`, {
        method: "POST",
        json: {},
        headers: bearer(session.accessToken),
      });
      assert.equal(res.status, 204);
      revoked.push(session);
      for (const instance of [b, c]) {
        if (!fromMemory(instance)) checksWhileDown++;
        assert.equal(
          await instance.orders(session.accessToken),
          401,
          "a token revoked during the outage is refused at once",
        );
      }
    }
    t.diagnostic(
      `${revoked.length} sessions revoked during the outage, ${checksWhileDown} checks answered by the database`,
    );
    assert.ok(checksWhileDown > 0, "the outage was seen: checks fell back to the database");

    // Back: wait until every instance has reconnected, caught up and answers from memory again.
    for (let waited = 0; !instances.every(fromMemory) && waited < 10_000; waited += 20)
      await new Promise((r) => setTimeout(r, 20));
    assert.ok(instances.every(fromMemory), "every instance reconnected and caught up");
    for (const instance of [b, c]) {
      const prior = instance.auth.sessionCheckStatus();
      for (const session of revoked) assert.equal(await instance.orders(session.accessToken), 401);
      assert.equal(await instance.orders(survivor.accessToken), 200, "a live session still works");
      const afterwards = instance.auth.sessionCheckStatus();
      assert.equal(afterwards.databaseChecks, prior.databaseChecks, "answered from memory: the catch-up found them");
      assert.ok(afterwards.catchUps >= 2, "caught up again after reconnecting");
    }
  });
});
