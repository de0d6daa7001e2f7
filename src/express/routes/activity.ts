import { z } from "zod";
import { isEventId } from "../../core/events/event-id.ts";
import type { AuditEventRecord } from "../../core/store/store.ts";

/** Page size when `limit` is not given, and the most one page may hold. */
export const DEFAULT_ACTIVITY_LIMIT = 20;
export const MAX_ACTIVITY_LIMIT = 100;

/** `?limit=&before=`: both optional; `before` is the `next_before` of the previous page. */
export const activityQuery = z
  .object({
    limit: z
      .string()
      .regex(/^\d{1,3}$/)
      .transform(Number)
      .pipe(z.number().int().min(1).max(MAX_ACTIVITY_LIMIT))
      .optional()
      .describe(`Events per page, 1 to ${MAX_ACTIVITY_LIMIT} (default ${DEFAULT_ACTIVITY_LIMIT}).`),
    before: z.string().refine(isEventId).optional().describe("The `next_before` of the previous page."),
  })
  .strict();

/** What `GET /activity` answers. */
export const activityResponse = z.object({
  events: z.array(
    z.object({
      id: z.string().describe("Event id (a UUIDv7); also the webhook-id of its webhook."),
      type: z.string().describe("user_registered, login_succeeded, login_failed, … (see docs/events.md)."),
      at: z.iso.datetime(),
      session_id: z.string().nullable(),
      ip: z.string().nullable(),
      user_agent: z.string().nullable(),
      details: z
        .record(z.string(), z.unknown())
        .describe("Flat details of the event (strings, numbers, booleans, null); see docs/events.md."),
    }),
  ),
  next_before: z.string().nullable().describe("Pass as `before` for the next (older) page; null on the last."),
});

/** One event as the API shows it (snake_case, ISO time). */
export function describeEvent(event: AuditEventRecord) {
  return {
    id: event.id,
    type: event.type,
    at: new Date(event.at).toISOString(),
    session_id: event.sessionId,
    ip: event.ip,
    user_agent: event.userAgent,
    details: event.data,
  };
}
