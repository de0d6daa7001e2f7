import { randomBytes, randomInt } from "node:crypto";

/**
 * Makes UUIDv7 ids (RFC 9562 §5.7): 48 bits of Unix milliseconds, then a 12-bit counter and
 * random bits. Ids from one generator strictly increase, even when the clock stands still or
 * steps back (a test clock, an NTP correction): the counter carries on from the last id. So
 * the id orders events and serves as the paging cursor.
 */
export function createEventIdGenerator(): (ms: number) => string {
  let lastMs = -1;
  let counter = 0;
  return (ms) => {
    if (ms > lastMs) {
      lastMs = ms;
      // Starting in the lower half leaves room for a burst within the same millisecond.
      counter = randomInt(0, 0x800);
    } else if (++counter > 0xfff) {
      lastMs += 1;
      counter = 0;
    }
    const bytes = randomBytes(16);
    bytes.writeUIntBE(lastMs, 0, 6);
    bytes[6] = 0x70 | (counter >> 8);
    bytes[7] = counter & 0xff;
    bytes[8] = (bytes[8]! & 0x3f) | 0x80;
    const hex = bytes.toString("hex");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Is `value` a lowercase UUID (the form event ids take)? */
export function isEventId(value: string): boolean {
  return UUID.test(value);
}
