import type { BenchSettings, PartResult, ResultRow } from "./results.ts";
import type { ServerHandle } from "./server-handle.ts";
import type { InsertSessionsResult, MemorySnapshot, VerifyManyResult } from "./server-protocol.ts";

const count = (n: number): string => n.toLocaleString("en-US");
const heapNote = (memory: MemorySnapshot): string => `heap used ${memory.heapUsedMiB.toFixed(1)} MiB`;

/**
 * The server's memory: at start, after the HTTP runs, after inserting many sessions through
 * the store (in batches: this measures memory, not insert speed), and after a million
 * verifications through its own verifier, twice (RSS must level off). After each, how many
 * tokens its verify cache still holds, which must not exceed the configured cap.
 */
export async function benchMemory(server: ServerHandle, settings: BenchSettings): Promise<PartResult> {
  const { sessions, verifications, verificationsPerToken } = settings.memory;
  const afterLoad = await server.command<MemorySnapshot>({ cmd: "memory" });
  const inserted = await server.command<InsertSessionsResult>({ cmd: "insert-sessions", count: sessions });
  const verified = await server.command<VerifyManyResult>({
    cmd: "verify-many",
    count: verifications,
    perToken: verificationsPerToken,
  });
  // The same again: RSS should level off, not keep climbing.
  const again = await server.command<VerifyManyResult>({
    cmd: "verify-many",
    count: verifications,
    perToken: verificationsPerToken,
  });

  const section = "Server memory (RSS after a full GC)";
  const row = (name: string, memory: MemorySnapshot, note: string): ResultRow => ({
    section,
    name,
    value: memory.rssMiB,
    unit: "MiB",
    note,
  });
  const rows: ResultRow[] = [
    row(
      `at start (${settings.http.connections} logged-in sessions)`,
      server.ready.memory,
      heapNote(server.ready.memory),
    ),
    row("after the HTTP and login-flood runs", afterLoad, heapNote(afterLoad)),
    row(
      `after inserting ${count(inserted.inserted)} sessions`,
      inserted.memory,
      `${heapNote(inserted.memory)}; ${inserted.seconds.toFixed(1)} s`,
    ),
    row(
      `after ${count(verified.verifications)} verifications`,
      verified.memory,
      `${heapNote(verified.memory)}; ${count(verified.distinctTokens)} distinct tokens, ${verificationsPerToken} uses each; ` +
        `cache holds ${count(verified.cacheEntries)} (cap ${count(verified.cacheCap)}); ${verified.seconds.toFixed(1)} s`,
    ),
    row(
      `after ${count(again.verifications)} more (new tokens)`,
      again.memory,
      `${heapNote(again.memory)}; cache holds ${count(again.cacheEntries)}; ${again.seconds.toFixed(1)} s`,
    ),
  ];
  return {
    rows,
    values: {
      "memory.rssStartMiB": server.ready.memory.rssMiB,
      "memory.rssAfterLoadMiB": afterLoad.rssMiB,
      "memory.rssAfterSessionsMiB": inserted.memory.rssMiB,
      "memory.rssAfterVerifyMiB": verified.memory.rssMiB,
      "memory.rssAfterVerifyAgainMiB": again.memory.rssMiB,
      "memory.cacheEntries": Math.max(verified.cacheEntries, again.cacheEntries),
      "memory.cacheCap": verified.cacheCap,
      "memory.distinctTokens": verified.distinctTokens,
    },
  };
}
