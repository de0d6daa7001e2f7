import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { VARIABLES } from "../../src/core/config/environment.ts";
import { settingRows } from "../../src/core/config/listing.ts";
import { renderSettingsMarkdown } from "../../src/core/config/settings-markdown.ts";

const DOC = new URL("../../docs/settings.md", import.meta.url);

describe("settings table", () => {
  const rows = settingRows();

  it("docs/settings.md is generated from it and up to date (npm run docs:settings)", () => {
    assert.equal(
      readFileSync(DOC, "utf8"),
      renderSettingsMarkdown(),
      "docs/settings.md is out of date: run npm run docs:settings",
    );
  });

  it("the docs list every variable, option path and flag", () => {
    const doc = readFileSync(DOC, "utf8");
    for (const row of rows) {
      for (const name of [row.variable, row.scope === "option" ? row.path : undefined, row.flag]) {
        if (name !== undefined) assert.ok(doc.includes(`\`${name}\``), name);
      }
    }
  });

  it("every default is a valid value of its own setting", () => {
    for (const { path, setting } of rows) {
      const parsed = setting.kind.schema.safeParse(setting.default);
      assert.ok(parsed.success, `${path} default`);
      assert.equal(setting.kind.check?.(parsed.data, path), undefined, `${path} default`);
      if (setting.defaultFrom)
        assert.ok(setting.kind.schema.safeParse(setting.defaultFrom()).success, `${path} computed default`);
    }
  });

  it("every default, written as the docs show it for the environment, reads back as itself", () => {
    for (const { path, setting } of rows) {
      if ((setting.env === undefined && setting.flag === undefined) || setting.default === undefined) continue;
      const text = setting.kind.showText(setting.default);
      assert.deepEqual(setting.kind.fromText?.(text), setting.default, `${path}: ${text}`);
    }
  });

  it("variables are UPPER_SNAKE_CASE; one feeding several settings feeds one kind of value", () => {
    for (const variable of VARIABLES) {
      assert.match(variable.name, /^[A-Z][A-Z0-9_]*$/);
      const summaries = new Set(
        variable.entries.map((entry) => entry.setting.kind.expectedText.replace(/, from .*$/, "")),
      );
      assert.equal(summaries.size, 1, `${variable.name} feeds different kinds of value`);
    }
  });

  it("every setting has one line of documentation and every code-only setting is an option", () => {
    for (const row of rows) {
      assert.ok(row.doc.length > 10 && !row.doc.includes("\n"), row.path);
      if (row.variable === undefined && row.flag === undefined) assert.equal(row.scope, "option", row.path);
    }
  });
});
