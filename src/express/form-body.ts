import type { Request, RequestHandler } from "express";
import { AuthError } from "../core/errors.ts";

const FORM_TYPE = /^application\/x-www-form-urlencoded\s*(;|$)/i;
const CHARSET = /;\s*charset\s*=\s*"?([^";\s]+)/i;
/** Far more than any token endpoint takes; a bound all the same, since every name becomes a key. */
const MAX_PARAMETERS = 32;

export function isFormContentType(type: string | undefined): boolean {
  return typeof type === "string" && FORM_TYPE.test(type);
}

const tooLarge = () =>
  new AuthError("payload_too_large", "The request body is too large. The limit is 16 KiB unless configured otherwise.");

/** Checks the headers before a byte is read: type, charset and encoding. */
function assertFormHeaders(req: Request): void {
  const type = req.headers["content-type"];
  if (!isFormContentType(type)) {
    throw new AuthError(
      "unsupported_media_type",
      "Send this request as a form: Content-Type: application/x-www-form-urlencoded.",
    );
  }
  const charset = CHARSET.exec(type ?? "")?.[1]?.toLowerCase();
  const encoding = req.headers["content-encoding"]?.toLowerCase();
  if ((charset !== undefined && charset !== "utf-8") || (encoding !== undefined && encoding !== "identity")) {
    throw new AuthError("unsupported_media_type", "Send the form as UTF-8 without content encoding.");
  }
}

/** One form name or value: `+` is a space, `%XX` a UTF-8 byte; a stray `%` stays as it is, as browsers do. */
function decodeFormPart(part: string): string {
  if (!part.includes("%") && !part.includes("+")) return part;
  const spaced = part.replaceAll("+", " ");
  try {
    return decodeURIComponent(spaced);
  } catch {
    return new URLSearchParams(`v=${part}`).get("v") ?? spaced;
  }
}

/**
 * Form text → an object. A name sent twice becomes a list, which the route's schema refuses: OAuth
 * parameters must not repeat (RFC 6749 §3.1). The object has no prototype, so no name (such as
 * `__proto__`) can reach anything but its own key. Written out rather than URLSearchParams because
 * this runs on every introspection and tokens seldom need decoding.
 */
export function parseForm(text: string): Record<string, string | string[]> {
  const form: Record<string, string | string[]> = Object.create(null);
  let count = 0;
  for (const pair of text.split("&")) {
    if (pair.length === 0) continue;
    if (++count > MAX_PARAMETERS) throw new AuthError("invalid_request", "The form has too many parameters.");
    const eq = pair.indexOf("=");
    const name = decodeFormPart(eq === -1 ? pair : pair.slice(0, eq));
    const value = eq === -1 ? "" : decodeFormPart(pair.slice(eq + 1));
    const seen = form[name];
    form[name] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  return form;
}

/**
 * Reads an `application/x-www-form-urlencoded` body (RFC 7662 §2.1, RFC 7009 §2.1) into
 * `req.body`: UTF-8 only, at most `limitBytes`. Smaller than a general body parser because these
 * endpoints sit on resource servers' hot paths. A body another middleware already read is used as is.
 */
export function formBody(limitBytes: number): RequestHandler {
  return (req, _res, next) => {
    assertFormHeaders(req);
    if (req.readableEnded) {
      if (req.body === undefined) req.body = Object.create(null);
      next();
      return;
    }
    if (Number(req.headers["content-length"]) > limitBytes) {
      req.resume();
      throw tooLarge();
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const fail = (error: AuthError) => {
      if (settled) return;
      settled = true;
      req.off("data", onData);
      req.resume();
      next(error);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limitBytes) fail(tooLarge());
      else chunks.push(chunk);
    };
    req.on("data", onData);
    req.once("error", () => fail(new AuthError("invalid_request", "The request body could not be read.")));
    req.once("end", () => {
      if (settled) return;
      settled = true;
      try {
        const bytes = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
        req.body = parseForm(bytes.toString("utf8"));
      } catch (error) {
        next(error);
        return;
      }
      next();
    });
  };
}
