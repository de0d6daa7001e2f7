import { z } from "zod";
import type { SessionCursor } from "../core/store/store.ts";

/** Sessions per page of `GET /auth/sessions` when `?limit=` is absent, and the most one page may hold. */
export const DEFAULT_SESSIONS_PAGE = 50;
export const MAX_SESSIONS_PAGE = 100;

/** A cursor's text: base64url of "<created_at ms>.<session id>", so it names nothing but the last row shown. */
const CURSOR_TEXT = /^[A-Za-z0-9_-]{1,120}$/;
const CURSOR_CONTENT = /^(\d{1,16})\.([0-9A-Za-z-]{1,64})$/;

export function encodeSessionCursor(cursor: SessionCursor): string {
  return Buffer.from(`${cursor.createdAt}.${cursor.id}`).toString("base64url");
}

function decodeSessionCursor(text: string): SessionCursor | undefined {
  const match = CURSOR_CONTENT.exec(Buffer.from(text, "base64url").toString("latin1"));
  if (!match?.[1] || !match[2]) return undefined;
  const createdAt = Number(match[1]);
  return Number.isSafeInteger(createdAt) ? { createdAt, id: match[2] } : undefined;
}

/**
 * The query of `GET /auth/sessions`. Each parameter at most once (a repeated one arrives as an
 * array and is refused); other parameters are ignored, as caches and proxies add their own.
 */
export const sessionsQuery = z.object({
  limit: z
    .string()
    .regex(/^[1-9][0-9]{0,2}$/)
    .transform(Number)
    .refine((n) => n <= MAX_SESSIONS_PAGE)
    .optional()
    .describe(`Sessions per page, 1 to ${MAX_SESSIONS_PAGE}; default ${DEFAULT_SESSIONS_PAGE}.`),
  before: z
    .string()
    .regex(CURSOR_TEXT)
    .transform((text, context) => {
      const cursor = decodeSessionCursor(text);
      if (cursor) return cursor;
      context.addIssue({ code: "custom", message: "not a cursor" });
      return z.NEVER;
    })
    .optional()
    .describe("The `next_cursor` of the previous page."),
});
