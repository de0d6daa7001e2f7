import { z } from "zod";

/** Session ids are UUIDs (`crypto.randomUUID()`); anything else cannot name a session. */
const SESSION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The `:id` of a session route. A value of another shape (a NUL byte, junk, a very long string)
 * is refused as the client's mistake (400), before it can reach the database and fail there.
 */
export const sessionIdParams = z.object({ id: z.string().regex(SESSION_ID) });
