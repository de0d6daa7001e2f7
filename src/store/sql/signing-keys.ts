import type { SigningKeyChanges, SigningKeyRecord } from "../../core/store/signing-keys.ts";
import type { SqlRunner } from "./driver.ts";
import { statement } from "./statement.ts";

interface SigningKeyRow {
  kid: string;
  alg: string;
  private_jwk: string;
  public_jwk: string;
  created_at: number;
  activates_at: number;
  retired_at: number | null;
  expires_at: number | null;
}

const COLUMNS = "kid, alg, private_jwk, public_jwk, created_at, activates_at, retired_at, expires_at";

const LIST = statement<[], SigningKeyRow>(
  "listSigningKeys",
  `SELECT ${COLUMNS} FROM signing_keys ORDER BY created_at, kid`,
);
const INSERT = statement<[string, string, string, string, number, number, number | null, number | null]>(
  "insertSigningKey",
  `INSERT INTO signing_keys (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
);
// Each column changes only when its flag is 1, so one statement serves every partial update.
const UPDATE = statement<[number, number | null, number, number | null, string]>(
  "updateSigningKey",
  `UPDATE signing_keys SET
     retired_at = CASE WHEN ? = 1 THEN CAST(? AS BIGINT) ELSE retired_at END,
     expires_at = CASE WHEN ? = 1 THEN CAST(? AS BIGINT) ELSE expires_at END
   WHERE kid = ?`,
);

const toSigningKey = (row: SigningKeyRow): SigningKeyRecord => ({
  kid: row.kid,
  alg: row.alg,
  privateJwk: row.private_jwk,
  publicJwk: row.public_jwk,
  createdAt: row.created_at,
  activatesAt: row.activates_at,
  retiredAt: row.retired_at,
  expiresAt: row.expires_at,
});

export async function list(db: SqlRunner): Promise<SigningKeyRecord[]> {
  return (await db.all(LIST, [])).map(toSigningKey);
}

export async function insert(db: SqlRunner, k: SigningKeyRecord): Promise<void> {
  await db.run(INSERT, [k.kid, k.alg, k.privateJwk, k.publicJwk, k.createdAt, k.activatesAt, k.retiredAt, k.expiresAt]);
}

export async function update(db: SqlRunner, kid: string, changes: SigningKeyChanges): Promise<void> {
  const { retiredAt, expiresAt } = changes;
  await db.run(UPDATE, [
    retiredAt === undefined ? 0 : 1,
    retiredAt ?? null,
    expiresAt === undefined ? 0 : 1,
    expiresAt ?? null,
    kid,
  ]);
}
