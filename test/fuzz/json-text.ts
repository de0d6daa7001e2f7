import type { JsonNode, JsonStyle, Value } from "./request-model.ts";

/** Turns a reference (token, fixture password…) into the string it stands for. */
export type Resolve = (value: Value, node: { str: Value }) => string;

export const PLAIN_STYLE: JsonStyle = { bom: false, asciiOnly: false, spaced: false, trailer: "" };

/**
 * Writes a JsonNode as the bytes of a JSON text. Unlike JSON.stringify this can repeat a
 * key, write numbers no double can hold ("1e400", 30-digit integers) and keep `__proto__`
 * as an ordinary key. Lone surrogates are written as \uXXXX escapes: valid JSON that
 * decodes to a string no UTF-8 encoder can represent.
 */
export function jsonBytes(root: JsonNode, style: JsonStyle, resolve: Resolve): Buffer {
  const text = (style.bom ? "\ufeff" : "") + jsonText(root, style, resolve) + style.trailer;
  return Buffer.from(text, "utf8");
}

export function jsonText(node: JsonNode, style: JsonStyle, resolve: Resolve): string {
  const gap = style.spaced ? " " : "";
  if (node === null) return "null";
  if (typeof node === "boolean") return String(node);
  if (typeof node === "number") return Number.isFinite(node) ? (Object.is(node, -0) ? "-0" : String(node)) : "null";
  if (Array.isArray(node)) return `[${gap}${node.map((item) => jsonText(item, style, resolve)).join(`,${gap}`)}${gap}]`;
  if ("num" in node) return node.num;
  if ("str" in node) return quote(resolve(node.str, node), style.asciiOnly);
  const members = node.obj.map(
    ([key, value]) => `${quote(key, style.asciiOnly)}${gap}:${gap}${jsonText(value, style, resolve)}`,
  );
  return `{${gap}${members.join(`,${gap}`)}${gap}}`;
}

function quote(value: string, asciiOnly: boolean): string {
  let out = '"';
  for (let i = 0; i < value.length; i++) {
    const unit = value.charCodeAt(i);
    const isHigh = unit >= 0xd800 && unit <= 0xdbff;
    const isLow = unit >= 0xdc00 && unit <= 0xdfff;
    const next = value.charCodeAt(i + 1);
    const paired = isHigh && next >= 0xdc00 && next <= 0xdfff;
    if (unit === 0x22) out += '\\"';
    else if (unit === 0x5c) out += "\\\\";
    else if (unit < 0x20 || (isHigh && !paired) || isLow || (asciiOnly && unit > 0x7e))
      out += `\\u${unit.toString(16).padStart(4, "0")}`;
    else if (paired) {
      out += value[i]! + value[i + 1]!;
      i++;
    } else out += value[i]!;
  }
  return `${out}"`;
}

/** A parsed JSON value as a JsonNode (to edit a token's header or payload). */
export function fromJson(value: unknown): JsonNode {
  if (value === null || typeof value === "boolean" || typeof value === "number") return value;
  if (typeof value === "string") return { str: value };
  if (Array.isArray(value)) return value.map(fromJson);
  if (typeof value === "object")
    return { obj: Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, fromJson(v)]) };
  return null;
}
