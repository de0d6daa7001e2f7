#!/usr/bin/env node
/**
 * Writes docs/settings.md from the settings table (src/core/config/settings.ts), so the docs
 * cannot drift from the code; test/config/settings-doc.test.ts fails when it is out of date.
 *
 *   npm run docs:settings             write it
 *   npm run docs:settings -- --check  exit 1 if it differs
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { renderSettingsMarkdown } from "../src/core/config/settings-markdown.ts";

const file = join(dirname(fileURLToPath(import.meta.url)), "..", "docs", "settings.md");
const wanted = renderSettingsMarkdown();
const current = existsSync(file) ? readFileSync(file, "utf8") : "";
if (process.argv.includes("--check")) {
  if (current !== wanted) {
    console.error("docs/settings.md is out of date: run npm run docs:settings");
    process.exit(1);
  }
  console.log("docs/settings.md is up to date");
} else if (current === wanted) console.log("docs/settings.md is up to date");
else {
  writeFileSync(file, wanted);
  console.log("wrote docs/settings.md");
}
