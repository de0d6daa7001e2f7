#!/usr/bin/env node
/**
 * Build: (a) the demo page's script, web/app.ts → public/app.js (esbuild, browser ESM,
 * minified, with a source map); (b) everything in src/ → dist/ with declarations (tsc with
 * tsconfig.build.json; TypeScript 7 has no JS API, so it is spawned): the three package
 * entries, the CLI behind bin/gatehouse.js and the server behind `npm start`, all plain
 * JavaScript that `node` runs without a loader. tsc's rewriteRelativeImportExtensions turns
 * the `./x.ts` specifiers of src/ into `./x.js`.
 *
 *   node scripts/build.mjs          both
 *   node scripts/build.mjs --app    only public/app.js (what the browser tests use)
 *   node scripts/build.mjs --lib    only dist/
 *
 * Exits non-zero on any failure.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const args = new Set(process.argv.slice(2));
const wantApp = !args.has("--lib");
const wantLib = !args.has("--app");

/** Bundles the demo page. Platform "browser": a Node built-in import fails the build. */
async function buildApp() {
  const result = await build({
    absWorkingDir: root,
    entryPoints: ["web/app.ts"],
    outfile: "public/app.js",
    bundle: true,
    format: "esm",
    platform: "browser",
    target: ["es2022"],
    minify: true,
    sourcemap: true,
    legalComments: "none",
    logLevel: "warning",
  });
  if (result.errors.length > 0) throw new Error("esbuild reported errors");
  console.log("built public/app.js");
}

/** Compiles src/ to dist/ with .d.ts files. */
function buildLibrary() {
  rmSync(join(root, "dist"), { recursive: true, force: true });
  const tsc = join(root, "node_modules", ".bin", process.platform === "win32" ? "tsc.cmd" : "tsc");
  if (!existsSync(tsc)) throw new Error(`TypeScript compiler not found at ${tsc}; run npm install.`);
  const run = spawnSync(tsc, ["-p", "tsconfig.build.json"], { cwd: root, stdio: "inherit" });
  if (run.error) throw run.error;
  if (run.status !== 0) throw new Error(`tsc exited with ${run.status ?? run.signal}`);
  rewriteDeclarationImports(join(root, "dist"));
  const expected = [
    "dist/index.js",
    "dist/index.d.ts",
    "dist/resource-server.js",
    "dist/resource-server.d.ts",
    "dist/client/index.js",
    "dist/client/index.d.ts",
    "dist/cli/main.js",
    "dist/server/main.js",
  ];
  const missing = expected.filter((file) => !existsSync(join(root, file)));
  if (missing.length > 0) throw new Error(`tsc finished but did not produce: ${missing.join(", ")}`);
  console.log("built dist/ (JavaScript and declarations)");
}

/**
 * tsc rewrites `./x.ts` to `./x.js` in JavaScript but not in .d.ts files
 * (microsoft/TypeScript#61037). TypeScript itself copes; other tools and older TypeScript
 * versions do not, so the declarations get the same specifiers as the JavaScript.
 */
function rewriteDeclarationImports(dir) {
  const specifier = /((?:from|import)\s*\(?\s*)(["'])(\.{1,2}\/[^"']*?)\.ts\2/g;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) rewriteDeclarationImports(path);
    else if (entry.name.endsWith(".d.ts")) {
      const text = readFileSync(path, "utf8");
      const rewritten = text.replace(specifier, "$1$2$3.js$2");
      if (rewritten !== text) writeFileSync(path, rewritten);
    }
  }
}

try {
  if (wantApp) await buildApp();
  if (wantLib) buildLibrary();
} catch (error) {
  console.error(`build failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
