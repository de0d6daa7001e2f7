import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ManualClock } from "../../src/core/clock.ts";
import { MFA_TOKEN_SECONDS } from "../../src/core/mfa/mfa-service.ts";
import { totpCode } from "../../src/core/mfa/totp.ts";
import { request, STRONG_PASSWORD } from "../helpers/http.ts";
import { startTestServer, type TestServer } from "../helpers/test-server.ts";

type Body = Record<string, unknown>;
const MINUTE = 60_000;

describe("expired second-step tokens and WebAuthn challenges are pruned", () => {
  const clock = new ManualClock(Date.UTC(2030, 0, 1));
  let server: TestServer;
  const call = (path: string, json: unknown, token?: string) =>
    request(`${server.url}/auth${path}`, {
      method: "POST",
      json,
      ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}),
    });
  /** Rows left that expire before `until`: a prune that far ahead deletes (and so counts) them. */
  const countExpiringBefore = async (until: number) => ({
    mfaTokens: await server.auth.store.pruneMfaTokens(until),
    webauthnChallenges: await server.auth.store.pruneWebAuthnChallenges(until),
  });

  before(async () => {
    server = await startTestServer({
      clock,
      loginRate: { perIp: { attempts: 10_000 }, perAccount: { attempts: 10_000 } },
    });
  });
  after(() => server.close());

  it("pruneExpiredTokens deletes what expired by the injected clock and keeps what still works", async () => {
    await call("/register", { username: "pruned.mfa", password: STRONG_PASSWORD });
    const token = ((await call("/login", { username: "pruned.mfa", password: STRONG_PASSWORD })).body as Body)[
      "access_token"
    ] as string;
    const secret = ((await call("/mfa/totp", {}, token)).body as Body)["secret"] as string;
    assert.equal((await call("/mfa/totp/confirm", { code: totpCode(secret, clock.now()) }, token)).status, 200);
    clock.advance(30_000);

    const login = () => call("/login", { username: "pruned.mfa", password: STRONG_PASSWORD });
    const stale = ((await login()).body as Body)["mfa_token"] as string;
    assert.equal((await call("/webauthn/login/options", {})).status, 200);
    clock.advance(MFA_TOKEN_SECONDS * 1000 + MINUTE);
    const fresh = ((await login()).body as Body)["mfa_token"] as string;
    assert.equal((await call("/webauthn/login/options", {})).status, 200);

    assert.deepEqual(await server.auth.pruneExpiredTokens(), { mailLinks: 0, mfaTokens: 1, webauthnChallenges: 1 });
    assert.deepEqual(await server.auth.pruneExpiredTokens(), { mailLinks: 0, mfaTokens: 0, webauthnChallenges: 0 });

    const dead = await call("/login/mfa", { mfa_token: stale, code: totpCode(secret, clock.now()) });
    assert.equal(dead.status, 401);
    assert.equal((dead.body as Body)["error"], "invalid_grant");
    const finished = await call("/login/mfa", { mfa_token: fresh, code: totpCode(secret, clock.now()) });
    assert.equal(finished.status, 200, finished.text);
    // Only the live rows were left: the fresh token (used now) and the fresh challenge.
    assert.deepEqual(await countExpiringBefore(clock.now() + 60 * MINUTE), { mfaTokens: 1, webauthnChallenges: 1 });
  });
});
