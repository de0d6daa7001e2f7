import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { openPostgresStore } from "../../src/store/postgres/driver.ts";
import { createThrowawaySchema, type ThrowawaySchema } from "../helpers/postgres-schema.ts";
import {
  type Instance,
  kidOf,
  login,
  randomPassword,
  register,
  runCli,
  startInstance,
  timeUntil,
  urlWithSchema,
} from "./instances.ts";

/**
 * Signing keys travel through the same change feed as session endings: a rotation made by the
 * CLI reaches every running instance within a second (not at the next minute's poll), and
 * `keys revoke <kid>` stops the key's tokens everywhere at once, cached ones included.
 */
describe("signing keys through the change feed (two instances, the CLI, one PostgreSQL)", () => {
  let db: ThrowawaySchema;
  let databaseUrl: string;
  let instances: [Instance, Instance];
  const password = randomPassword();

  before(async () => {
    db = await createThrowawaySchema("gatehouse_keyfeed");
    databaseUrl = urlWithSchema(db.url, db.schema);
    instances = (await Promise.all(
      [0, 1].map(() => startInstance({ store: openPostgresStore(db.url, { schema: db.schema }) })),
    )) as [Instance, Instance];
    await register(instances[0], "keyholder", password);
  });
  after(async () => {
    await Promise.all((instances ?? []).map((instance) => instance.close()));
    await db?.drop();
  });

  const published = (instance: Instance, kid: string) => instance.auth.keys.jwks().keys.some((key) => key.kid === kid);

  it("a rotation by the CLI is published by every instance within a second", async (t) => {
    const run = await runCli(databaseUrl, ["keys", "rotate", "--publish-ahead", "0", "--json"]);
    assert.equal(run.code, 0, run.stderr);
    const { kid } = JSON.parse(run.stdout) as { kid: string };
    const started = performance.now();
    const delays = await Promise.all(
      instances.map((instance) => timeUntil(async () => published(instance, kid), started, 5000)),
    );
    t.diagnostic(`published ${delays.map((d) => `${d.toFixed(1)} ms`).join(", ")} after the CLI exited`);
    assert.ok(Math.max(...delays) < 1000, delays.join(", "));
    const session = await login(instances[0], "keyholder", password);
    assert.equal(kidOf(session.accessToken), kid, "it signs at once (no publish-ahead asked)");
    assert.equal(await instances[1].orders(session.accessToken), 200);
  });

  it("`keys revoke <kid>` stops its tokens on every instance within a second, cached ones included", async (t) => {
    const session = await login(instances[0], "keyholder", password);
    const kid = kidOf(session.accessToken);
    for (const instance of instances) {
      assert.equal(await instance.stateless(session.accessToken), 200);
      assert.equal(await instance.orders(session.accessToken), 200, "cached by the verifier");
    }
    const run = await runCli(databaseUrl, ["keys", "revoke", kid, "--json"]);
    assert.equal(run.code, 0, run.stderr);
    const result = JSON.parse(run.stdout) as { removed: boolean; replacementKid?: string };
    assert.equal(result.removed, true);
    assert.ok(result.replacementKid, "the signing key was revoked, so a replacement signs from now");
    const started = performance.now();
    const delays = await Promise.all(
      instances.map((instance) =>
        timeUntil(async () => (await instance.stateless(session.accessToken)) === 401, started, 5000),
      ),
    );
    t.diagnostic(`refused ${delays.map((d) => `${d.toFixed(1)} ms`).join(", ")} after the CLI exited`);
    assert.ok(Math.max(...delays) < 1000, delays.join(", "));
    for (const instance of instances) {
      assert.equal(published(instance, kid), false, "gone from the JWKS");
      assert.equal(await instance.orders(session.accessToken), 401);
    }
    const fresh = await login(instances[1], "keyholder", password);
    assert.equal(kidOf(fresh.accessToken), result.replacementKid);
    assert.equal(await instances[0].orders(fresh.accessToken), 200);
  });

  it("`keys revoke` of an unknown kid fails with exit code 1 and says so", async () => {
    const run = await runCli(databaseUrl, ["keys", "revoke", "no-such-kid"]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /No signing key has kid "no-such-kid"/);
  });
});
