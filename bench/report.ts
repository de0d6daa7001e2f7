import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type MachineInfo, machineLine } from "./machine.ts";
import type { BenchSettings, ResultRow } from "./results.ts";
import { type TargetOutcome, targetLine } from "./targets.ts";

export const REPRODUCE_COMMAND = "npm run bench";

const formatNumber = (n: number): string =>
  n >= 100 ? Math.round(n).toLocaleString("en-US") : n.toFixed(n >= 10 ? 1 : 2);

function valueText(row: ResultRow): string {
  return row.value === null ? "n/a" : `${formatNumber(row.value)} ${row.unit}`;
}

const p99Text = (row: ResultRow): string => (row.p99Ms === undefined ? "" : `${row.p99Ms.toFixed(2)} ms`);
const ratioText = (row: ResultRow): string => (row.ratio === undefined ? "" : `${row.ratio.toFixed(2)}×`);

/** Rows grouped by section, in first-seen order. */
function sections(rows: readonly ResultRow[]): [string, ResultRow[]][] {
  const grouped = new Map<string, ResultRow[]>();
  for (const row of rows) {
    const list = grouped.get(row.section) ?? [];
    list.push(row);
    grouped.set(row.section, list);
  }
  return [...grouped];
}

/** The one plain-text table: throughput, p99 where it applies, and the ratio to each section's reference. */
export function renderTable(rows: readonly ResultRow[]): string {
  const nameWidth = Math.max(...rows.map((row) => row.name.length)) + 2;
  const valueWidth = Math.max(...rows.map((row) => valueText(row).length), "throughput".length);
  const p99Width = Math.max(...rows.map((row) => p99Text(row).length), "p99".length);
  const ratioWidth = Math.max(...rows.map((row) => ratioText(row).length), "ratio".length);
  const line = (name: string, value: string, p99: string, ratio: string, note: string) =>
    `${name.padEnd(nameWidth)}  ${value.padStart(valueWidth)}  ${p99.padStart(p99Width)}  ${ratio.padStart(ratioWidth)}  ${note}`.trimEnd();
  const out: string[] = [line("", "throughput", "p99", "ratio", "")];
  for (const [section, list] of sections(rows)) {
    const reference = list.find((row) => row.ratioTo !== undefined)?.ratioTo;
    out.push("", reference ? `${section}  (ratio: × ${reference})` : section);
    for (const row of list)
      out.push(line(`  ${row.name}`, valueText(row), p99Text(row), ratioText(row), row.note ?? ""));
  }
  return out.join("\n");
}

export interface BenchReport {
  machine: MachineInfo;
  settings: BenchSettings;
  command: string;
  durationSeconds: number;
  rows: ResultRow[];
  values: Record<string, number>;
  targets: TargetOutcome[];
  /** Parts that threw, with their error messages; their targets show as SKIP. */
  failures: string[];
}

function markdownTable(rows: readonly ResultRow[]): string {
  const out: string[] = [];
  for (const [section, list] of sections(rows)) {
    const reference = list.find((row) => row.ratioTo !== undefined)?.ratioTo;
    out.push(
      `### ${section}`,
      "",
      `| | throughput | p99 | ${reference ? `× ${reference}` : "ratio"} | |`,
      "|---|---:|---:|---:|---|",
    );
    for (const row of list)
      out.push(`| ${row.name} | ${valueText(row)} | ${p99Text(row)} | ${ratioText(row)} | ${row.note ?? ""} |`);
    out.push("");
  }
  return out.join("\n");
}

function renderMarkdown(report: BenchReport): string {
  return [
    "# Gatehouse benchmark results",
    "",
    `Machine: ${machineLine(report.machine)}`,
    "",
    `Reproduce: \`${report.command}\`${report.settings.quick ? " (this was a `--quick` smoke run)" : ""}; took ${report.durationSeconds.toFixed(0)} s.`,
    "",
    "## Targets",
    "",
    ...report.targets.map((target) => `- ${targetLine(target)}`),
    ...(report.failures.length > 0
      ? ["", "## Parts that failed", "", ...report.failures.map((failure) => `- ${failure}`)]
      : []),
    "",
    "## Figures",
    "",
    markdownTable(report.rows),
    "What each line means: docs/benchmarks.md.",
    "",
  ].join("\n");
}

/** Writes `<basename>.json` and `<basename>.md` into `directory`; returns their paths. */
export function writeReport(report: BenchReport, directory: string, basename: string): string[] {
  mkdirSync(directory, { recursive: true });
  const jsonPath = join(directory, `${basename}.json`);
  const markdownPath = join(directory, `${basename}.md`);
  writeFileSync(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(markdownPath, renderMarkdown(report));
  return [jsonPath, markdownPath];
}
