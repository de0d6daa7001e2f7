import assert from "node:assert/strict";

/** GETs `/metrics` (with a bearer token when given) and returns the Prometheus text. */
export async function scrape(url: string, token?: string): Promise<string> {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const response = await fetch(`${url}/metrics`, { headers });
  const text = await response.text();
  assert.equal(response.status, 200, text);
  assert.match(response.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  return text;
}

/** The value of one series, e.g. `gatehouse_logins_total{result="success"}`; fails when absent. */
export function sample(text: string, series: string): number {
  for (const line of text.split("\n")) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  }
  assert.fail(`no series ${series} in the scrape`);
}

/** The value of the first series named `name` whose labels include every one of `labels`. */
export function sampleWith(text: string, name: string, labels: Record<string, string>): number | undefined {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`)) continue;
    const close = line.indexOf("} ");
    const labelText = line.slice(name.length + 1, close);
    const present = labelText.split(",");
    if (wanted.every((pair) => present.includes(pair))) return Number(line.slice(close + 2));
  }
  return undefined;
}
