import { createHash } from "node:crypto";
import { isIPv4, isIPv6 } from "node:net";
import { usernameKey } from "../users/username.ts";

/**
 * The username as the throttle counts it: the account's lookup key, so "Alice", "ALICE"
 * and fullwidth "Ａｌｉｃｅ" share one counter.
 */
export function throttleUsername(username: string): string {
  return usernameKey(username);
}

/** An IPv6 address as its eight 16-bit groups; `addr` must already pass `isIPv6`. */
function ipv6Groups(addr: string): number[] {
  let head = addr;
  const tail: number[] = [];
  const lastColon = addr.lastIndexOf(":");
  const last = addr.slice(lastColon + 1);
  if (last.includes(".")) {
    const [a = 0, b = 0, c = 0, d = 0] = last.split(".").map(Number);
    tail.push((a << 8) | b, (c << 8) | d);
    head = addr.slice(0, lastColon + 1);
    if (!head.endsWith("::")) head = head.slice(0, -1);
  }
  const [left = "", right] = head.split("::");
  const leftGroups = left === "" ? [] : left.split(":");
  const rightGroups = right === undefined || right === "" ? [] : right.split(":");
  const zeros = right === undefined ? 0 : 8 - tail.length - leftGroups.length - rightGroups.length;
  return [...leftGroups, ...Array<string>(zeros).fill("0"), ...rightGroups]
    .map((g) => Number.parseInt(g, 16))
    .concat(tail);
}

/**
 * The client address as the throttle counts it. IPv4 as is (also when written IPv4-mapped,
 * `::ffff:1.2.3.4`, as dual-stack sockets report it); IPv6 by its /64 prefix, because one
 * subscriber usually holds a whole /64 and could otherwise rotate addresses to dodge the limit.
 */
export function throttleIp(ip: string): string {
  const addr = ip.trim().toLowerCase().replace(/%.*$/, "");
  if (isIPv4(addr)) return addr;
  if (!isIPv6(addr)) return addr.slice(0, 100);
  const groups = ipv6Groups(addr);
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    const [hi = 0, lo = 0] = groups.slice(6);
    return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  }
  return `${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(":")}::/64`;
}

/**
 * One key per (account, address), hashed: fixed size whatever the username's length, and the
 * store holds no usernames.
 */
export function accountAndIpKey(username: string, ip: string): string {
  return createHash("sha256")
    .update(JSON.stringify([throttleUsername(username), throttleIp(ip)]))
    .digest("base64url");
}
