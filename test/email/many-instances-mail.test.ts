import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { openPostgresStore } from "../../src/store/postgres/driver.ts";
import { request, STRONG_PASSWORD } from "../helpers/http.ts";
import { createThrowawaySchema, type ThrowawaySchema } from "../helpers/postgres-schema.ts";
import { startTestServer, type TestServer } from "../helpers/test-server.ts";
import { linkToken, startSmtpServer, type TestSmtpServer, to } from "./smtp-test-server.ts";

describe("mail with two instances on one PostgreSQL, both running workers", () => {
  let db: ThrowawaySchema;
  let smtp: TestSmtpServer;
  let servers: TestServer[];
  before(async () => {
    db = await createThrowawaySchema("gatehouse_mail");
    smtp = await startSmtpServer();
    // Every request comes from 127.0.0.1: lift the per-address limits on sign-ups and hashing.
    const options = {
      email: { smtpUrl: smtp.url },
      registrationsPerIpPerHour: 1000,
      argon2: { maxPerAddress: 100 },
    };
    // One at a time: both migrate the same schema.
    const first = await startTestServer({ ...options, store: openPostgresStore(db.url, { schema: db.schema }) });
    const second = await startTestServer({ ...options, store: openPostgresStore(db.url, { schema: db.schema }) });
    servers = [first, second];
  });
  after(async () => {
    for (const server of servers) await server.close();
    await smtp.stop();
    await db.drop();
  });

  it("sends each message once, whichever instance queued it", async () => {
    const count = 24;
    // Held back while both workers are ready, so both compete for the same rows.
    await smtp.stop();
    await Promise.all(
      Array.from({ length: count }, (_, i) =>
        request(`${servers[i % 2]!.url}/auth/register`, {
          method: "POST",
          json: { username: `pg${i}`, password: STRONG_PASSWORD, email: `pg${i}@example.test` },
        }).then((response) => assert.equal(response.status, 201)),
      ),
    );
    await smtp.start();
    const mails = await smtp.waitFor(() => true, count, 60_000);
    // Give a duplicate time to show up.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const recipients = smtp.received.flatMap((mail) => mail.rcptTo).sort();
    assert.equal(recipients.length, count, `each message once: ${recipients.join(", ")}`);
    assert.equal(new Set(recipients).size, count);
    // Links queued on one instance work on the other.
    const [mail] = await smtp.waitFor(to("pg0@example.test"));
    const verify = await request(`${servers[1]!.url}/auth/email/verify`, {
      method: "POST",
      json: { token: linkToken(mail!, "verify") },
    });
    assert.equal(verify.status, 204);
    assert.ok(mails.length >= count);
  });
});
