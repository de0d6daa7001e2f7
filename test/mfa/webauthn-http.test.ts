import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { request, STRONG_PASSWORD } from "../helpers/http.ts";
import { startTestServer, type TestServer } from "../helpers/test-server.ts";

type Body = Record<string, unknown>;
const clientData = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

describe("passkey routes over HTTP: options and bad input", () => {
  let server: TestServer;
  let token: string;

  const call = (method: string, path: string, json?: unknown, bearer?: string) =>
    request(`${server.url}/auth${path}`, {
      method,
      ...(json === undefined ? {} : { json }),
      ...(bearer ? { headers: { authorization: `Bearer ${bearer}` } } : {}),
    });

  before(async () => {
    server = await startTestServer();
    await call("POST", "/register", { username: "webauthn-user", password: STRONG_PASSWORD });
    token = ((await call("POST", "/login", { username: "webauthn-user", password: STRONG_PASSWORD })).body as Body)[
      "access_token"
    ] as string;
  });
  after(() => server.close());

  it("login options ask for discoverable credentials with user verification, for the PUBLIC_URL host", async () => {
    const res = await call("POST", "/webauthn/login/options", {});
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("cache-control"), "no-store");
    const options = res.body as Body;
    assert.equal(options["rpId"], "localhost");
    assert.equal(options["userVerification"], "required");
    assert.deepEqual(options["allowCredentials"] ?? [], []);
    assert.match(options["challenge"] as string, /^[A-Za-z0-9_-]{32,}$/);
  });

  it("registration options need a bearer token and require a resident key and user verification", async () => {
    assert.equal((await call("POST", "/webauthn/register/options", {})).status, 401);
    const res = await call("POST", "/webauthn/register/options", {}, token);
    assert.equal(res.status, 200, res.text);
    const options = res.body as {
      rp: { id: string };
      user: { name: string };
      authenticatorSelection: Body;
      attestation: string;
      excludeCredentials: unknown[];
    };
    assert.equal(options.rp.id, "localhost");
    assert.equal(options.user.name, "webauthn-user");
    assert.equal(options.authenticatorSelection["residentKey"], "required");
    assert.equal(options.authenticatorSelection["userVerification"], "required");
    assert.equal(options.attestation, "none");
    assert.deepEqual(options.excludeCredentials, []);
  });

  it("malformed responses are 400, unverifiable ones 401, and a challenge answers once; never 5xx", async () => {
    const { challenge } = (await call("POST", "/webauthn/login/options", {})).body as { challenge: string };
    const forged = {
      id: "AAAA",
      rawId: "AAAA",
      type: "public-key",
      response: {
        clientDataJSON: clientData({ type: "webauthn.get", challenge, origin: "http://localhost:3000" }),
        authenticatorData: "AAAA",
        signature: "AAAA",
      },
      clientExtensionResults: {},
    };
    const first = await call("POST", "/webauthn/login/verify", { response: forged });
    assert.equal(first.status, 401);
    assert.equal((first.body as Body)["error"], "invalid_credentials");
    const again = await call("POST", "/webauthn/login/verify", { response: forged });
    assert.equal(again.status, 401, "the challenge was used up");

    for (const body of [
      {},
      { response: {} },
      { response: "text" },
      { response: { id: "x", response: {} } },
      { response: { id: "x", response: { clientDataJSON: "%%%" } } },
      { response: { id: "x", response: { clientDataJSON: clientData({ challenge: 5 }) } } },
      { response: { id: "x", response: { clientDataJSON: clientData({ challenge: "unknown" }) } } },
      { response: { id: "", response: { clientDataJSON: clientData({ challenge }) } } },
      { response: forged, extra: 1 },
      { response: forged, mfa_token: "nonsense" },
    ]) {
      const res = await call("POST", "/webauthn/login/verify", body);
      assert.ok(res.status === 400 || res.status === 401, `${JSON.stringify(body).slice(0, 80)} → ${res.status}`);
      assert.ok(typeof (res.body as Body)["error"] === "string");
    }
    for (const body of [{}, { response: forged }, { response: { id: "x", response: { clientDataJSON: "e30" } } }]) {
      const res = await call("POST", "/webauthn/register/verify", body, token);
      assert.ok(
        res.status === 400 || res.status === 401,
        `register ${JSON.stringify(body).slice(0, 60)} → ${res.status}`,
      );
    }
  });

  it("lists, renames and removes only existing passkeys of the caller", async () => {
    const list = await call("GET", "/webauthn/credentials", undefined, token);
    assert.equal(list.status, 200);
    assert.deepEqual((list.body as Body)["credentials"], []);
    assert.equal((await call("PATCH", "/webauthn/credentials/AAAA", { name: "x" }, token)).status, 404);
    assert.equal((await call("PATCH", "/webauthn/credentials/AAAA", { name: "" }, token)).status, 400);
    assert.equal((await call("PATCH", "/webauthn/credentials/a%00b", { name: "x" }, token)).status, 400);
    assert.equal(
      (await call("DELETE", "/webauthn/credentials/AAAA", { current_password: "wrong!" }, token)).status,
      401,
    );
    const removal = await call("DELETE", "/webauthn/credentials/AAAA", { current_password: STRONG_PASSWORD }, token);
    assert.equal(removal.status, 404);
  });

  it("second-step options with a dead mfa_token are invalid_grant", async () => {
    const res = await call("POST", "/webauthn/login/options", { mfa_token: `ghmfa_${"A".repeat(43)}` });
    assert.equal(res.status, 401);
    assert.equal((res.body as Body)["error"], "invalid_grant");
  });
});
