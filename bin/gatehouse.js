#!/usr/bin/env node
// The `gatehouse` command runs the compiled CLI in dist/, with plain node: an installed
// package ships dist/, and a source checkout builds it on `npm install` (the prepare script)
// or with `npm run build`.
import { existsSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";

const compiled = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));
if (!existsSync(compiled)) {
  console.error("gatehouse: the compiled CLI (dist/cli/main.js) is missing; run `npm run build` first.");
  process.exit(1);
}
await import(pathToFileURL(compiled).href);
