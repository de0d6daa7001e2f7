import type { DatabaseFindings } from "./database-check.ts";
import type { Instance } from "./instances.ts";
import type { WorkerReport } from "./soak-types.ts";

export interface SoakSummary {
  seconds: number;
  revoke: boolean;
  restartMs: number;
  reports: WorkerReport[];
  instances: readonly Instance[];
  findings: DatabaseFindings;
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

/** The table a soak run ends with: answers per route and status, memory per instance, database state. */
export function printSummary(s: SoakSummary): void {
  const answers = new Map<string, number>();
  for (const report of s.reports) {
    for (const [key, count] of Object.entries(report.answers)) answers.set(key, (answers.get(key) ?? 0) + count);
  }
  const total = sum([...answers.values()]);
  const lines = [
    `soak: ${s.seconds} s, ${s.reports.length} traffic processes, revoke ${s.revoke ? "on" : "not in this build"}`,
    "",
    "| route | status | answers |",
    "|---|---|---|",
    ...[...answers]
      .sort(([x], [y]) => x.localeCompare(y))
      .map(([key, count]) => {
        const cut = key.lastIndexOf(" ");
        return `| ${key.slice(0, cut)} | ${key.slice(cut + 1)} | ${count} |`;
      }),
    `| all | | ${total} (${Math.round(total / s.seconds)}/s) |`,
    "",
    "| instance | life | RSS at start | after warm-up | at end (MB) |",
    "|---|---|---|---|---|",
    ...s.instances.flatMap((instance) =>
      instance.rss.map((life, i) => `| ${instance.name} | ${i + 1} | ${life.start} | ${life.warm} | ${life.end} |`),
    ),
    "",
    `unexpected answers: ${sum(s.reports.map((r) => r.surpriseCount))}; ` +
      `requests sent again to the other instance (never answered): ${sum(s.reports.map((r) => r.retries))}; ` +
      `restart took ${s.restartMs} ms (drain, exit, start)`,
    `ended-session access tokens accepted within the 1 s revocation window: ` +
      `${sum(s.reports.map((r) => r.lateRevocations))}; retried logins: ${sum(s.reports.map((r) => r.lostLogins))}`,
    `sessions: ${sum(s.reports.map((r) => r.sessions.length))} in the models ` +
      `(${sum(s.reports.map((r) => r.sessions.filter((x) => x.state === "ended").length))} ended), ` +
      `${s.findings.sessionsInDatabase} in the database; inconsistent: ended-but-live ` +
      `${s.findings.endedButLive.length}, live-but-ended ${s.findings.liveButEnded.length}, ` +
      `two current tokens ${s.findings.forkedChains.length}, live without one current token ` +
      `${s.findings.liveWithoutOneToken.length}`,
  ];
  console.log(lines.join("\n"));
}
