import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { openPostgresStore } from "../../src/store/postgres/driver.ts";
import { request } from "../helpers/http.ts";
import { createThrowawaySchema, type ThrowawaySchema } from "../helpers/postgres-schema.ts";
import {
  bearer,
  type Instance,
  login,
  median,
  randomPassword,
  register,
  startInstance,
  timeUntil,
} from "./instances.ts";

/**
 * Every way a session ends, done on instance A, must stop its access token on B and C within
 * a second, without B and C reading the database per request. Three real HTTP servers share
 * one PostgreSQL schema; each kind of ending is measured over several trials and the delay
 * from A's answer until B and C answer 401 is reported (median and maximum).
 */
const TRIALS = 6;
const LIMIT_MS = 1000;

interface Trial {
  /** The access token that must stop working. */
  victim: string;
  /** Ends its session on instance A. */
  end(): Promise<void>;
}

describe("revocation on one instance reaches the others within a second (three instances, one PostgreSQL)", () => {
  let db: ThrowawaySchema;
  let a: Instance;
  let b: Instance;
  let c: Instance;

  before(async () => {
    db = await createThrowawaySchema("gatehouse_revoke3");
    [a, b, c] = (await Promise.all(
      [0, 1, 2].map(() =>
        startInstance({
          store: openPostgresStore(db.url, { schema: db.schema }),
          refreshGraceSeconds: 0,
          registrationsPerIpPerHour: 1000,
        }),
      ),
    )) as [Instance, Instance, Instance];
  });
  after(async () => {
    await Promise.all([a, b, c].filter(Boolean).map((instance) => instance.close()));
    await db?.drop();
  });

  const newUser = async () => {
    const username = `u${randomBytes(5).toString("hex")}`;
    const password = randomPassword();
    const id = await register(a, username, password);
    return { id, username, password };
  };

  /** Runs the trials of one kind of ending; returns the delays (ms) measured on B and on C. */
  const measure = async (prepare: () => Promise<Trial>): Promise<number[]> => {
    const delays: number[] = [];
    let databaseChecks = 0;
    for (let trial = 0; trial < TRIALS; trial++) {
      const { victim, end } = await prepare();
      assert.deepEqual([await b.orders(victim), await c.orders(victim)], [200, 200], "accepted before the end");
      const before = [b, c].map((instance) => instance.auth.sessionCheckStatus().databaseChecks);
      await end();
      // From the moment A has answered: the session has ended for whoever asked.
      const started = performance.now();
      const refusedOn = (instance: Instance) => async () => (await instance.orders(victim)) === 401;
      delays.push(...(await Promise.all([b, c].map((instance) => timeUntil(refusedOn(instance), started, 5000)))));
      databaseChecks += [b, c].reduce(
        (sum, instance, i) => sum + instance.auth.sessionCheckStatus().databaseChecks - before[i]!,
        0,
      );
      assert.equal(await b.stateless(victim), 200, "checkSession: false trusts the token alone until it expires");
    }
    assert.ok(databaseChecks <= delays.length, `B and C answered from memory (${databaseChecks} database checks)`);
    return delays;
  };

  const report = (t: { diagnostic(message: string): void }, kind: string, delays: number[]) => {
    const max = Math.max(...delays);
    t.diagnostic(
      `${kind}: ${delays.length} measurements, median ${median(delays).toFixed(1)} ms, max ${max.toFixed(1)} ms`,
    );
    assert.ok(max < LIMIT_MS, `${kind}: the slowest instance took ${max.toFixed(0)} ms (limit ${LIMIT_MS} ms)`);
  };

  it("logout", async (t) => {
    const user = await newUser();
    const delays = await measure(async () => {
      const session = await login(b, user.username, user.password);
      return {
        victim: session.accessToken,
        end: async () => {
          const res = await request(`${a.url}/auth/logout`, {
            method: "POST",
            json: {},
            headers: bearer(session.accessToken),
          });
          assert.equal(res.status, 204);
        },
      };
    });
    report(t, "logout", delays);
  });

  it("logout-all", async (t) => {
    const user = await newUser();
    const delays = await measure(async () => {
      const [victim, actor] = [
        await login(b, user.username, user.password),
        await login(a, user.username, user.password),
      ];
      return {
        victim: victim.accessToken,
        end: async () => {
          const res = await request(`${a.url}/auth/logout-all`, {
            method: "POST",
            json: {},
            headers: bearer(actor.accessToken),
          });
          assert.equal(res.status, 204);
        },
      };
    });
    report(t, "logout-all", delays);
  });

  it("session delete", async (t) => {
    const user = await newUser();
    const actor = await login(a, user.username, user.password);
    const delays = await measure(async () => {
      const victim = await login(c, user.username, user.password);
      return {
        victim: victim.accessToken,
        end: async () => {
          const res = await request(`${a.url}/auth/sessions/${victim.sessionId}`, {
            method: "DELETE",
            headers: bearer(actor.accessToken),
          });
          assert.equal(res.status, 204);
        },
      };
    });
    report(t, "session delete", delays);
  });

  it("password change", async (t) => {
    const user = await newUser();
    const delays = await measure(async () => {
      const [victim, actor] = [
        await login(b, user.username, user.password),
        await login(a, user.username, user.password),
      ];
      return {
        victim: victim.accessToken,
        end: async () => {
          const next = randomPassword();
          const res = await request(`${a.url}/auth/password`, {
            method: "POST",
            json: { current_password: user.password, new_password: next },
            headers: bearer(actor.accessToken),
          });
          assert.equal(res.status, 204, res.text);
          user.password = next;
        },
      };
    });
    report(t, "password change", delays);
  });

  it("disabling the user", async (t) => {
    const delays = await measure(async () => {
      const user = await newUser();
      const victim = await login(b, user.username, user.password);
      return { victim: victim.accessToken, end: () => a.auth.service.setUserDisabled(user.id, true) };
    });
    report(t, "disable user", delays);
  });

  it("refresh-token reuse detection", async (t) => {
    const user = await newUser();
    const delays = await measure(async () => {
      const victim = await login(b, user.username, user.password);
      const refresh = (token: string) =>
        request(`${a.url}/auth/refresh`, { method: "POST", json: { refresh_token: token, token_transport: "body" } });
      assert.equal((await refresh(victim.refreshToken)).status, 200);
      return {
        victim: victim.accessToken,
        end: async () => {
          const reused = await refresh(victim.refreshToken);
          assert.equal(reused.status, 401, "the retired token, presented again after the grace window");
        },
      };
    });
    report(t, "refresh-token reuse", delays);
  });
});
