import { fromJson, jsonText, PLAIN_STYLE } from "./json-text.ts";
import type { JsonPatch, Mutation } from "./request-model.ts";

/** Applies mutations in order. Each is a pure function of the token text, so replays agree. */
export function mutateToken(token: string, mutations: readonly Mutation[]): string {
  return mutations.reduce(applyMutation, token);
}

const position = (text: string, at: number) => Math.min(text.length, Math.max(0, Math.floor(at * text.length)));

function applyMutation(token: string, m: Mutation): string {
  const segments = token.split(".");
  const segment = (index: number) => Math.min(segments.length - 1, Math.max(0, index));
  const withSegment = (index: number, update: (s: string) => string) =>
    segments.map((s, i) => (i === segment(index) ? update(s) : s)).join(".");
  switch (m.op) {
    case "flip": {
      const i = Math.min(position(token, m.at), token.length - 1);
      if (i < 0) return m.char;
      // Never a no-op: pick another character when the chosen one is already there.
      const replacement = token[i] === m.char ? (m.char === "A" ? "B" : "A") : m.char;
      return token.slice(0, i) + replacement + token.slice(i + 1);
    }
    case "truncate":
      return token.slice(0, position(token, m.at));
    case "insert": {
      const i = position(token, m.at);
      return token.slice(0, i) + m.text + token.slice(i);
    }
    case "delete-char": {
      const i = Math.min(position(token, m.at), token.length - 1);
      return i < 0 ? token : token.slice(0, i) + token.slice(i + 1);
    }
    case "case-flip": {
      const i = Math.min(position(token, m.at), token.length - 1);
      const c = token[i] ?? "";
      const flipped = c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase();
      return token.slice(0, i) + flipped + token.slice(i + 1);
    }
    case "drop-segment":
      return segments.filter((_, i) => i !== segment(m.index)).join(".");
    case "duplicate-segment":
      return segments.flatMap((s, i) => (i === segment(m.index) ? [s, s] : [s])).join(".");
    case "swap-segments": {
      const copy = [...segments];
      const a = segment(m.a);
      const b = segment(m.b);
      [copy[a], copy[b]] = [copy[b]!, copy[a]!];
      return copy.join(".");
    }
    case "pad-segment":
      return withSegment(m.index, (s) => `${s}${"=".repeat((4 - (s.length % 4)) % 4 || 2)}`);
    case "standard-base64":
      return withSegment(m.index, (s) => Buffer.from(s, "base64url").toString("base64"));
    case "edit-header":
      return withSegment(0, (s) => patchJsonSegment(s, m.patch));
    case "edit-payload":
      return withSegment(1, (s) => patchJsonSegment(s, m.patch));
    case "respace-json":
      return withSegment(m.index, (s) => {
        const parsed = parseSegment(s);
        return parsed === undefined ? s : Buffer.from(JSON.stringify(parsed, null, 1), "utf8").toString("base64url");
      });
    case "empty-segment":
      return withSegment(m.index, () => "");
    case "append-segments":
      return token + ".e30".repeat(Math.max(1, m.count));
  }
}

function parseSegment(segment: string): unknown {
  try {
    return JSON.parse(Buffer.from(segment, "base64url").toString("utf8"));
  } catch {
    return undefined;
  }
}

/** Rewrites a segment's JSON object with the patch (null deletes a member); the signature is kept. */
function patchJsonSegment(segment: string, patch: JsonPatch): string {
  const parsed = parseSegment(segment);
  const base =
    parsed !== null && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  const entries = Object.entries(base)
    .filter(([key]) => !(key in patch))
    .map(([key, value]) => [key, fromJson(value)] as const);
  for (const [key, value] of Object.entries(patch)) if (value !== null) entries.push([key, value]);
  const text = jsonText({ obj: entries.map(([k, v]) => [k, v]) }, PLAIN_STYLE, (v) => (typeof v === "string" ? v : ""));
  return Buffer.from(text, "utf8").toString("base64url");
}
