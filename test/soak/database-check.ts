import type pg from "pg";
import type { SessionRecord } from "./soak-types.ts";

export interface DatabaseFindings {
  sessionsInDatabase: number;
  /** The model says ended, the row is not (or is missing). */
  endedButLive: string[];
  /** The model says live, the row is ended (or missing). */
  liveButEnded: string[];
  /** Sessions holding two or more refresh tokens that were never rotated: two live branches of one chain. */
  forkedChains: string[];
  /** Live sessions of the model without exactly one current refresh token. */
  liveWithoutOneToken: string[];
}

/** Compares the workers' models with the sessions and refresh tokens in the schema (search_path set by `admin`). */
export async function checkDatabase(
  admin: pg.Client,
  schema: string,
  models: SessionRecord[],
): Promise<DatabaseFindings> {
  const sessions = await admin.query<{ id: string; ended_at: string | null }>(
    `SELECT id, ended_at FROM ${schema}.sessions`,
  );
  const endedAt = new Map(sessions.rows.map((row) => [row.id, row.ended_at]));
  const current = await admin.query<{ session_id: string; current: string }>(
    `SELECT session_id, count(*) AS current FROM ${schema}.refresh_tokens WHERE rotated_at IS NULL GROUP BY session_id`,
  );
  const currentTokens = new Map(current.rows.map((row) => [row.session_id, Number(row.current)]));

  const findings: DatabaseFindings = {
    sessionsInDatabase: sessions.rowCount ?? 0,
    endedButLive: [],
    liveButEnded: [],
    forkedChains: [...currentTokens].filter(([, count]) => count > 1).map(([id]) => id),
    liveWithoutOneToken: [],
  };
  for (const model of models) {
    const ended = endedAt.get(model.sid);
    if (model.state === "ended" && (ended === undefined || ended === null)) findings.endedButLive.push(model.sid);
    if (model.state === "live") {
      if (ended !== null) findings.liveButEnded.push(model.sid);
      if (currentTokens.get(model.sid) !== 1) findings.liveWithoutOneToken.push(model.sid);
    }
  }
  return findings;
}
