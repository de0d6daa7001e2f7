/** Unicode bidi controls: they reorder what a terminal shows (Trojan Source, CVE-2021-42574). */
const BIDI_CONTROLS = new Set([
  0x061c, 0x200e, 0x200f, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069,
]);

/** C0, DEL, C1 (0x9B alone starts an escape sequence), the line and paragraph separators, bidi. */
function isTerminalControl(code: number): boolean {
  if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) return true;
  return code === 0x2028 || code === 0x2029 || BIDI_CONTROLS.has(code);
}

/**
 * Text safe to print to a terminal: every control character is shown as an escape (`\x1b`,
 * `\u202e`) instead of being obeyed, so a username, user agent or token claim cannot move the
 * cursor, rewrite the screen, set the clipboard or reorder what is shown. Newlines are escaped
 * too: call it per line. Every CLI output path goes through it.
 */
export function terminalSafe(text: string): string {
  let out = "";
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (!isTerminalControl(code)) out += ch;
    else if (code <= 0xff) out += `\\x${code.toString(16).padStart(2, "0")}`;
    else out += `\\u${code.toString(16).padStart(4, "0")}`;
  }
  return out;
}

/** Multi-line text (such as commander's messages) made safe line by line. */
export function terminalSafeLines(text: string): string {
  return text.split("\n").map(terminalSafe).join("\n");
}

/**
 * JSON with every terminal control inside its strings spelled as a `\uXXXX` escape.
 * JSON.stringify already does that for C0 but leaves DEL, C1 and the bidi controls as they
 * are; the value parses the same. Raw line feeds can only be the indentation's.
 */
function terminalSafeJson(json: string): string {
  let out = "";
  for (const ch of json) {
    const code = ch.codePointAt(0)!;
    out += code !== 0x0a && isTerminalControl(code) ? `\\u${code.toString(16).padStart(4, "0")}` : ch;
  }
  return out;
}

/** Prints `value` as indented JSON on stdout (the `--json` form of every data command). */
export function printJson(value: unknown): void {
  process.stdout.write(`${terminalSafeJson(JSON.stringify(value, null, 2))}\n`);
}

/** Prints lines on stdout, each made terminal-safe. */
export function printLines(...lines: string[]): void {
  process.stdout.write(lines.map((line) => `${terminalSafe(line)}\n`).join(""));
}

/** Prints one `gatehouse: <message>` line on stderr, made terminal-safe. */
export function printError(message: string): void {
  process.stderr.write(`gatehouse: ${terminalSafe(message)}\n`);
}

/** Milliseconds since the epoch as ISO 8601, or null. */
export function isoTime(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

/** A plain left-aligned table; empty cells show "-". */
export function printTable(headers: string[], rows: (string | number | null | undefined)[][]): void {
  const shown = (cell: string | number | null | undefined) =>
    cell === null || cell === undefined || cell === "" ? "-" : terminalSafe(String(cell));
  const cells = rows.map((row) => row.map(shown));
  const widths = headers.map((header, i) => Math.max(header.length, ...cells.map((row) => row[i]?.length ?? 0)));
  const line = (row: string[]) =>
    row
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  printLines(line(headers), ...cells.map(line));
}

/** Reads all of stdin as text (for `--password-stdin` and `-` tokens). */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
