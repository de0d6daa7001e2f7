/**
 * Finds a Chromium for the browser tests: CHROMIUM_PATH, else /usr/bin/chromium, else the
 * headless build that `@sparticuz/chromium` ships inside npm (Linux x64 only). A missing
 * browser is a failure that says what to install, never a skip.
 */
import {
  accessSync,
  chmodSync,
  constants,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, normalize } from "node:path";
import { brotliDecompressSync } from "node:zlib";

const SYSTEM_CHROMIUM = "/usr/bin/chromium";

export const CHROMIUM_MISSING =
  "The browser tests need Chromium. Run `npm install` on Linux x64 (it brings @sparticuz/chromium), " +
  "or install Chromium (Debian: apt-get install chromium), or set CHROMIUM_PATH to a Chromium or Chrome binary.";

export interface ResolvedChromium {
  executablePath: string;
  /** Where it came from, for the test runner's start-up line. */
  source: "CHROMIUM_PATH" | typeof SYSTEM_CHROMIUM | "@sparticuz/chromium";
  /** Environment the browser process needs on top of the test's own. */
  env: Record<string, string>;
}

export async function resolveChromium(): Promise<ResolvedChromium> {
  const fromEnv = process.env["CHROMIUM_PATH"];
  if (fromEnv) {
    if (!isProgram(fromEnv))
      throw new Error(`CHROMIUM_PATH is ${fromEnv}, which is not a program. ${CHROMIUM_MISSING}`);
    return { executablePath: fromEnv, source: "CHROMIUM_PATH", env: {} };
  }
  if (isProgram(SYSTEM_CHROMIUM)) return { executablePath: SYSTEM_CHROMIUM, source: SYSTEM_CHROMIUM, env: {} };
  const home = await unpackNpmChromium();
  // Its own NSS/NSPR/expat, so the browser needs nothing from the system beyond the C library.
  const libraries = [join(home, "lib"), process.env["LD_LIBRARY_PATH"]].filter(Boolean).join(":");
  return { executablePath: join(home, "chromium"), source: "@sparticuz/chromium", env: { LD_LIBRARY_PATH: libraries } };
}

/** An executable regular file (a path can exist and still be an empty mount or a folder). */
function isProgram(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * `@sparticuz/chromium` ships the binary brotli-compressed and unpacks it into os.tmpdir(),
 * writing in place and trusting whatever file it finds there. Several suites may start at
 * once, and an unpack cut short would leave a broken binary for every later run; so it
 * unpacks into a private folder here, which is renamed into place only once complete.
 * Returns that folder.
 */
async function unpackNpmChromium(): Promise<string> {
  if (process.platform !== "linux" || process.arch !== "x64") throw new Error(CHROMIUM_MISSING);
  let entry: string;
  try {
    entry = createRequire(import.meta.url).resolve("@sparticuz/chromium");
  } catch {
    throw new Error(CHROMIUM_MISSING);
  }
  const { root, version } = packageRoot(entry);
  const home = join(tmpdir(), `gatehouse-chromium-${version}`);
  if (existsSync(join(home, "chromium")) && existsSync(join(home, "lib"))) return home;

  const { default: Chromium } = await import("@sparticuz/chromium");
  const partial = mkdtempSync(`${home}.partial-`);
  try {
    const previousTmpdir = process.env["TMPDIR"];
    process.env["TMPDIR"] = partial; // os.tmpdir() reads it on every call
    try {
      await Chromium.executablePath();
    } finally {
      if (previousTmpdir === undefined) delete process.env["TMPDIR"];
      else process.env["TMPDIR"] = previousTmpdir;
    }
    // The libraries it unpacks only on Amazon Linux; they work on other glibc systems too.
    unpackTarBrotli(join(root, "bin", "al2023.tar.br"), partial);
    chmodSync(partial, 0o755); // usable by every account on the machine, like the npm copy
    chmodSync(join(partial, "chromium"), 0o755);
    renameSync(partial, home);
  } catch (error) {
    rmSync(partial, { recursive: true, force: true });
    if (!existsSync(join(home, "lib"))) throw error; // otherwise another run finished first: use its copy
  }
  return home;
}

/** The folder and version of the package an entry file belongs to (its exports hide package.json). */
function packageRoot(entry: string): { root: string; version: string } {
  for (let dir = dirname(entry); dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, "package.json");
    if (existsSync(file)) {
      const { name, version } = JSON.parse(readFileSync(file, "utf8")) as { name?: string; version: string };
      if (name === "@sparticuz/chromium") return { root: dir, version };
    }
  }
  throw new Error(`no package.json above ${entry}`);
}

/** Writes the regular files of a brotli-compressed tar archive (512-byte ustar records) under `into`. */
function unpackTarBrotli(archive: string, into: string): void {
  const tar = brotliDecompressSync(readFileSync(archive));
  const field = (header: Buffer, start: number, end: number) => header.toString("latin1", start, end).split("\0")[0]!;
  for (let at = 0; at + 512 <= tar.length; ) {
    const header = tar.subarray(at, at + 512);
    const name = normalize(field(header, 0, 100));
    if (name === ".") break; // the archive ends with empty records
    const size = Number.parseInt(field(header, 124, 136).trim() || "0", 8);
    const type = field(header, 156, 157);
    if ((type === "0" || type === "") && !name.startsWith("..") && !name.startsWith("/")) {
      const file = join(into, name);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, tar.subarray(at + 512, at + 512 + size), { mode: 0o755 });
    }
    at += 512 + Math.ceil(size / 512) * 512;
  }
}
