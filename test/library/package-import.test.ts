import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { generateKeyPairSync, randomUUID, sign } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { createServer, type Server } from "node:http";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const run = promisify(execFile);

interface PackageJson {
  version: string;
  exports: Record<string, string | { types?: string; import?: string }>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as PackageJson;

/** Compilers, bundlers and loaders: needed to build Gatehouse, never to run it. */
const BUILD_TOOLS = /^(typescript|@typescript\/.*|tsx|esbuild|@esbuild\/.*|@biomejs\/.*)$/;

function filesUnder(dir: string, suffix: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((file) => file.endsWith(suffix))
    .map((file) => join(dir, file));
}

/**
 * The packages a source file loads when it runs: static imports and re-exports (not
 * `import type` / `export type`, which compile away), `import("x")` and `require("x")`.
 * Relative and `node:` specifiers are left out; a deep import counts as its package.
 */
function runtimePackagesOf(source: string): Set<string> {
  const specifiers = [
    ...source.matchAll(/^\s*import\s+(?!type\s)(?:[^;]*?\sfrom\s*)?"([^"]+)"/gm),
    ...source.matchAll(/^\s*export\s+(?!type\s)[^;]*?\sfrom\s*"([^"]+)"/gm),
    ...source.matchAll(/\b(?:import|require)\(\s*"([^"]+)"\s*\)/g),
  ].map((match) => match[1]!);
  const packages = new Set<string>();
  for (const specifier of specifiers) {
    if (specifier.startsWith(".") || specifier.startsWith("node:") || builtinModules.includes(specifier)) continue;
    const parts = specifier.split("/");
    packages.add(specifier.startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0]!);
  }
  return packages;
}

/** Package name → the files (relative to `dir`) that load it at run time. */
function runtimeImportsUnder(dir: string, suffix: string): Map<string, string[]> {
  const users = new Map<string, string[]>();
  for (const file of filesUnder(dir, suffix)) {
    for (const name of runtimePackagesOf(readFileSync(file, "utf8"))) {
      users.set(name, [...(users.get(name) ?? []), relative(dir, file)]);
    }
  }
  return users;
}

describe("package.json: what an app that installs Gatehouse gets", () => {
  it("has express as a peer dependency (^5), also installed for the tests", () => {
    assert.equal(pkg.dependencies["express"], undefined, "express is not a hard dependency");
    assert.match(pkg.peerDependencies?.["express"] ?? "", /^\^5\./);
    assert.ok(pkg.devDependencies["express"], "the tests need express installed");
    assert.notEqual(pkg.peerDependenciesMeta?.["express"]?.optional, true, "the library needs express");
  });

  it("has pg as an optional peer dependency: it is loaded only for postgres:// URLs", () => {
    assert.equal(pkg.dependencies["pg"], undefined);
    assert.match(pkg.peerDependencies?.["pg"] ?? "", /^\^8\./);
    assert.equal(pkg.peerDependenciesMeta?.["pg"]?.optional, true);
    assert.ok(pkg.devDependencies["pg"], "the PostgreSQL tests need pg installed");
  });

  it("lists no compiler, bundler or loader in dependencies", () => {
    assert.deepEqual(
      Object.keys(pkg.dependencies).filter((name) => BUILD_TOOLS.test(name)),
      [],
    );
  });

  it("has no unused dependency: each one is loaded somewhere in src/", () => {
    const used = runtimeImportsUnder(join(ROOT, "src"), ".ts");
    const unused = Object.keys(pkg.dependencies).filter((name) => !used.has(name));
    assert.deepEqual(unused, [], "move these to devDependencies or remove them");
  });

  it("has a lock file that matches it and installs no build tool outside devDependencies", () => {
    const lock = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8")) as {
      packages: Record<string, { dependencies?: Record<string, string>; dev?: boolean; devOptional?: boolean }>;
    };
    const rootEntry = lock.packages[""]!;
    assert.deepEqual(rootEntry.dependencies ?? {}, pkg.dependencies, "run npm install to refresh package-lock.json");
    const installedForApps = Object.entries(lock.packages)
      .filter(([path, entry]) => path !== "" && entry.dev !== true && entry.devOptional !== true)
      .map(([path]) => path.slice(path.lastIndexOf("node_modules/") + "node_modules/".length));
    assert.ok(installedForApps.includes("better-sqlite3"), "sanity: runtime packages are in the lock file");
    assert.deepEqual(
      installedForApps.filter((name) => BUILD_TOOLS.test(name)),
      [],
      "a build tool is pulled in by a runtime dependency",
    );
  });
});

describe("the packed package, imported from plain Node ESM apps", () => {
  const work = mkdtempSync(join(tmpdir(), "gatehouse-consumer-"));
  let tarball = "";

  /** A folder with a package.json and node_modules holding the packed Gatehouse plus `links` from ours. */
  function makeApp(name: string, links: readonly string[]): string {
    const app = join(work, name);
    const installed = join(app, "node_modules", "gatehouse");
    mkdirSync(installed, { recursive: true });
    // A real copy, not a link: a link would resolve Gatehouse's own imports from the repo's node_modules.
    execFileSync("tar", ["-xzf", tarball, "-C", installed, "--strip-components=1"]);
    for (const link of links) {
      const target = join(app, "node_modules", link);
      mkdirSync(join(target, ".."), { recursive: true });
      symlinkSync(join(ROOT, "node_modules", link), target, "dir");
    }
    writeFileSync(join(app, "package.json"), JSON.stringify({ type: "module", private: true }));
    return app;
  }

  before(() => {
    assert.ok(existsSync(join(ROOT, "dist/index.js")), "run `npm run build` first (npm test does)");
    // --ignore-scripts: dist/ is already built; packing only decides which files are published.
    const npm = process.platform === "win32" ? "npm.cmd" : "npm";
    const packed = execFileSync(npm, ["pack", "--ignore-scripts", "--json", "--pack-destination", work], {
      cwd: ROOT,
      encoding: "utf8",
      shell: process.platform === "win32",
    });
    tarball = join(work, (JSON.parse(packed) as { filename: string }[])[0]!.filename);
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it("publishes JavaScript and declarations for every entry point, and no TypeScript source", () => {
    const listing = execFileSync("tar", ["-tzf", tarball], { encoding: "utf8" }).split("\n");
    for (const [entry, target] of Object.entries(pkg.exports)) {
      const files = typeof target === "string" ? [target] : [target.import!, target.types!];
      for (const file of files) assert.ok(listing.includes(`package/${file.slice(2)}`), `${entry}: ${file}`);
    }
    for (const file of ["dist/cli/main.js", "dist/server/main.js", "bin/gatehouse.js", "public/app.js"]) {
      assert.ok(listing.includes(`package/${file}`), `${file} is published`);
    }
    assert.deepEqual(
      listing.filter((file) => file.endsWith(".ts") && !file.endsWith(".d.ts")),
      [],
      "src/ is not published",
    );
  });

  it("runs only packages it declares: every import in dist/ is a dependency or a peer dependency", () => {
    const declared = new Set([...Object.keys(pkg.dependencies), ...Object.keys(pkg.peerDependencies ?? {})]);
    const undeclared = [...runtimeImportsUnder(join(ROOT, "dist"), ".js")].filter(([name]) => !declared.has(name));
    assert.deepEqual(undeclared, [], "dist/ loads packages an installed Gatehouse would not have");
  });

  it("`gatehouse/client` loads nothing but its own files (no Node built-in, no package)", () => {
    const clientDir = join(ROOT, "dist", "client");
    for (const file of filesUnder(clientDir, ".js")) {
      const source = readFileSync(file, "utf8");
      const specifiers = [...source.matchAll(/^\s*(?:import|export)\s[^;]*?\sfrom\s*"([^"]+)"/gm)].map((m) => m[1]!);
      for (const specifier of specifiers) {
        assert.ok(specifier.startsWith("./"), `${relative(clientDir, file)} imports ${specifier}`);
      }
      assert.doesNotMatch(source, /\b(?:import|require)\(/, `${relative(clientDir, file)} loads a module at run time`);
    }
  });

  it("`gatehouse` runs the whole library with only its dependencies and express installed", async () => {
    const app = makeApp("full", [...Object.keys(pkg.dependencies), "express"]);
    writeFileSync(join(app, "app.mjs"), FULL_APP);
    const { stdout } = await run(process.execPath, ["app.mjs"], { cwd: app, timeout: 30_000 });
    assert.deepEqual(lastJsonLine(stdout), {
      reg: 201,
      orders: 200,
      denied: 401,
      authError: "function",
      createResourceServer: "function",
    });
    const cli = await run(process.execPath, ["node_modules/gatehouse/bin/gatehouse.js", "--version"], {
      cwd: app,
      timeout: 30_000,
    });
    assert.equal(cli.stdout.trim(), pkg.version, "the installed `gatehouse` command runs the compiled CLI");
  });

  it("`gatehouse/resource-server` verifies tokens with better-sqlite3, @node-rs/argon2 and pg absent", async () => {
    const app = makeApp("resource-server", ["express"]);
    writeFileSync(join(app, "api.mjs"), RESOURCE_SERVER_APP);
    const issuer = await startJwksServer();
    try {
      const { stdout } = await run(process.execPath, ["api.mjs"], {
        cwd: app,
        timeout: 30_000,
        env: { PATH: process.env["PATH"] ?? "", JWKS_URL: issuer.jwksUrl, TOKEN: issuer.token },
      });
      assert.deepEqual(lastJsonLine(stdout), {
        absent: {
          "better-sqlite3": "ERR_MODULE_NOT_FOUND",
          "@node-rs/argon2": "ERR_MODULE_NOT_FOUND",
          pg: "ERR_MODULE_NOT_FOUND",
        },
        fullLibrary: "ERR_MODULE_NOT_FOUND",
        verified: { sub: "user-1", scope: "orders:read" },
        withToken: { status: 200, user: "user-1" },
        withoutToken: { status: 401, challenge: true },
        forged: 401,
        authError: "function",
      });
    } finally {
      await issuer.close();
    }
  });

  it("`gatehouse/client` imports in Node with no package installed beside it", async () => {
    const app = makeApp("client", []);
    writeFileSync(
      join(app, "client.mjs"),
      `const client = await import("gatehouse/client");
       console.log(JSON.stringify(Object.keys(client).sort()));`,
    );
    const { stdout } = await run(process.execPath, ["client.mjs"], { cwd: app, timeout: 30_000 });
    assert.deepEqual(lastJsonLine(stdout), ["GatehouseClientError", "createGatehouseClient", "isGatehouseClientError"]);
  });

  it("type-checks an app that imports all three entries through the published declarations", async () => {
    const app = makeApp("typed", [
      ...Object.keys(pkg.dependencies),
      "express",
      "@types/express",
      "@types/node",
      "@types/better-sqlite3",
    ]);
    writeFileSync(join(app, "app.ts"), TYPED_APP);
    writeFileSync(
      join(app, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "ES2022",
          module: "NodeNext",
          moduleResolution: "NodeNext",
          lib: ["ES2022", "DOM"],
          types: ["node"],
          strict: true,
          exactOptionalPropertyTypes: true,
          skipLibCheck: true,
          noEmit: true,
        },
        files: ["app.ts"],
      }),
    );
    const tsc = join(ROOT, "node_modules", "typescript", "bin", "tsc");
    const result = await run(process.execPath, [tsc, "-p", "tsconfig.json"], { cwd: app, timeout: 60_000 }).then(
      () => "",
      (error: { stdout?: string }) => error.stdout ?? String(error),
    );
    assert.equal(result, "", "the app type-checks against the package's declarations");
  });
});

function lastJsonLine(stdout: string): unknown {
  const lines = stdout.trim().split("\n");
  const last = lines.filter((line) => line.startsWith("{") || line.startsWith("[")).pop();
  assert.ok(last, `no JSON line in the app's output:\n${stdout}`);
  return JSON.parse(last);
}

/** A stand-in issuer: serves an Ed25519 JWKS on 127.0.0.1 and has signed one access token. */
async function startJwksServer(): Promise<{ jwksUrl: string; token: string; close(): Promise<void> }> {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const kid = "package-test-key";
  const jwks = JSON.stringify({ keys: [{ ...publicKey.export({ format: "jwk" }), kid, alg: "EdDSA", use: "sig" }] });
  const now = Math.floor(Date.now() / 1000);
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const header = part({ alg: "EdDSA", typ: "at+jwt", kid });
  const payload = part({
    iss: "gatehouse",
    aud: "gatehouse",
    sub: "user-1",
    sid: "session-1",
    jti: randomUUID(),
    scope: "orders:read",
    iat: now,
    exp: now + 300,
  });
  const signature = sign(null, Buffer.from(`${header}.${payload}`), privateKey).toString("base64url");
  const server: Server = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "application/json" }).end(jwks);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    jwksUrl: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    token: `${header}.${payload}.${signature}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const FULL_APP = `
import express from "express";
import { createGatehouse, createResourceServer, AuthError } from "gatehouse";
const auth = await createGatehouse({ database: "sqlite::memory:", logger: undefined, realm: "plain-app" });
const app = express();
app.use("/auth", auth.router());
app.get("/api/orders", auth.requireAuth(), (req, res) => res.json({ user: req.auth.userId }));
const server = app.listen(0, "127.0.0.1", async () => {
  const base = "http://127.0.0.1:" + server.address().port;
  const json = (body) => ({
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const creds = { username: "plain-node", password: "correct horse battery staple 42" };
  const reg = await fetch(base + "/auth/register", json(creds));
  const login = await (await fetch(base + "/auth/login", json(creds))).json();
  const bearer = { headers: { authorization: "Bearer " + login.access_token } };
  const orders = await fetch(base + "/api/orders", bearer);
  const denied = await fetch(base + "/api/orders");
  console.log(JSON.stringify({
    reg: reg.status,
    orders: orders.status,
    denied: denied.status,
    authError: typeof AuthError,
    createResourceServer: typeof createResourceServer,
  }));
  server.close();
  await auth.close();
});
`;

const RESOURCE_SERVER_APP = `
const absent = {};
for (const name of ["better-sqlite3", "@node-rs/argon2", "pg"]) {
  absent[name] = await import(name).then(() => "installed", (error) => error.code);
}
const fullLibrary = await import("gatehouse").then(() => "loaded", (error) => error.code);

const { createResourceServer, AuthError } = await import("gatehouse/resource-server");
const { default: express } = await import("express");
const gate = createResourceServer({ jwksUrl: process.env.JWKS_URL, issuer: "gatehouse", audience: "gatehouse" });
const token = process.env.TOKEN;
const claims = await gate.verify(token);
const [h, p, s] = token.split(".");
const forgedToken = h + "." + p + "." + (s[0] === "A" ? "B" : "A") + s.slice(1);

const app = express();
app.get("/orders", gate.requireAuth({ scopes: ["orders:read"] }), (req, res) => res.json({ user: req.auth.userId }));
const server = app.listen(0, "127.0.0.1", async () => {
  const url = "http://127.0.0.1:" + server.address().port + "/orders";
  const ok = await fetch(url, { headers: { authorization: "Bearer " + token } });
  const anonymous = await fetch(url);
  const forged = await fetch(url, { headers: { authorization: "Bearer " + forgedToken } });
  console.log(JSON.stringify({
    absent,
    fullLibrary,
    verified: { sub: claims.sub, scope: claims.scope },
    withToken: { status: ok.status, user: (await ok.json()).user },
    withoutToken: { status: anonymous.status, challenge: /^Bearer /.test(anonymous.headers.get("www-authenticate")) },
    forged: forged.status,
    authError: typeof AuthError,
  }));
  server.close();
});
`;

const TYPED_APP = `
import express from "express";
import { createGatehouse, type Gatehouse } from "gatehouse";
import { createResourceServer, type AccessTokenClaims, AuthError } from "gatehouse/resource-server";
import { createGatehouseClient, type GatehouseClient } from "gatehouse/client";

export async function start(): Promise<Gatehouse> {
  const auth = await createGatehouse({ database: "sqlite::memory:" });
  const app = express();
  app.get("/me", auth.requireAuth(), (req, res) => res.json({ id: req.auth?.userId }));
  return auth;
}
export const gate = createResourceServer({ jwksUrl: "https://a.example/jwks.json", issuer: "i", audience: "a" });
export async function check(token: string): Promise<AccessTokenClaims | string> {
  try {
    return await gate.verify(token);
  } catch (error) {
    return error instanceof AuthError ? error.code : "unknown";
  }
}
export const client: GatehouseClient = createGatehouseClient({ baseUrl: "https://auth.example" });
`;
