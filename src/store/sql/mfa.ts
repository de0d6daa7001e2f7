import type { MfaTokenRecord, RecoveryCodeRecord, TotpFactorRecord } from "../../core/store/mfa.ts";
import type { SqlRunner } from "./driver.ts";
import { statement } from "./statement.ts";

interface TotpRow {
  user_id: string;
  sealed_secret: string;
  created_at: number;
  confirmed_at: number | null;
  last_used_step: number | null;
}

interface RecoveryCodeRow {
  user_id: string;
  hash: string;
  created_at: number;
  used_at: number | null;
}

interface MfaTokenRow {
  hash: string;
  user_id: string;
  created_at: number;
  expires_at: number;
  attempts: number;
  used_at: number | null;
}

// A confirmed factor is never overwritten by a new enrolment: it must be removed first.
const PUT_PENDING_TOTP = statement<[string, string, number]>(
  "putPendingTotpFactor",
  `INSERT INTO totp_factors (user_id, sealed_secret, created_at, confirmed_at, last_used_step)
   VALUES (?, ?, ?, NULL, NULL)
   ON CONFLICT (user_id) DO UPDATE SET sealed_secret = excluded.sealed_secret, created_at = excluded.created_at
   WHERE totp_factors.confirmed_at IS NULL`,
);
const FIND_TOTP = statement<[string], TotpRow>(
  "findTotpFactor",
  "SELECT user_id, sealed_secret, created_at, confirmed_at, last_used_step FROM totp_factors WHERE user_id = ?",
);
const CONFIRM_TOTP = statement<[number, number, string]>(
  "confirmTotpFactor",
  "UPDATE totp_factors SET confirmed_at = ?, last_used_step = ? WHERE user_id = ? AND confirmed_at IS NULL",
);
// The comparison in the WHERE clause makes replay refusal atomic: only one update per step can match.
const USE_TOTP_STEP = statement<[number, string, number]>(
  "useTotpStep",
  `UPDATE totp_factors SET last_used_step = ?
   WHERE user_id = ? AND confirmed_at IS NOT NULL AND (last_used_step IS NULL OR last_used_step < ?)`,
);
const DELETE_TOTP = statement<[string]>("deleteTotpFactor", "DELETE FROM totp_factors WHERE user_id = ?");

const DELETE_RECOVERY = statement<[string]>("deleteRecoveryCodes", "DELETE FROM recovery_codes WHERE user_id = ?");
const INSERT_RECOVERY = statement<[string, string, number]>(
  "insertRecoveryCode",
  "INSERT INTO recovery_codes (user_id, hash, created_at, used_at) VALUES (?, ?, ?, NULL)",
);
const LIST_UNUSED_RECOVERY = statement<[string], RecoveryCodeRow>(
  "listUnusedRecoveryCodes",
  "SELECT user_id, hash, created_at, used_at FROM recovery_codes WHERE user_id = ? AND used_at IS NULL ORDER BY hash",
);
const USE_RECOVERY = statement<[number, string, string]>(
  "useRecoveryCode",
  "UPDATE recovery_codes SET used_at = ? WHERE user_id = ? AND hash = ? AND used_at IS NULL",
);

const INSERT_MFA_TOKEN = statement<[string, string, number, number, number, number | null]>(
  "insertMfaToken",
  "INSERT INTO mfa_tokens (hash, user_id, created_at, expires_at, attempts, used_at) VALUES (?, ?, ?, ?, ?, ?)",
);
// The try is taken in the same statement that checks there is one left, so parallel guesses cannot overdraw.
const TAKE_MFA_ATTEMPT = statement<[string, number, number]>(
  "takeMfaTokenAttempt",
  `UPDATE mfa_tokens SET attempts = attempts + 1
   WHERE hash = ? AND used_at IS NULL AND expires_at > ? AND attempts < ?`,
);
const FIND_MFA_TOKEN = statement<[string], MfaTokenRow>(
  "findMfaToken",
  "SELECT hash, user_id, created_at, expires_at, attempts, used_at FROM mfa_tokens WHERE hash = ?",
);
const FIND_LIVE_MFA_TOKEN = statement<[string, number, number], MfaTokenRow>(
  "findLiveMfaToken",
  `SELECT hash, user_id, created_at, expires_at, attempts, used_at FROM mfa_tokens
   WHERE hash = ? AND used_at IS NULL AND expires_at > ? AND attempts < ?`,
);
const CONSUME_MFA_TOKEN = statement<[number, string]>(
  "consumeMfaToken",
  "UPDATE mfa_tokens SET used_at = ? WHERE hash = ? AND used_at IS NULL",
);
const PRUNE_MFA_TOKENS = statement<[number]>("pruneMfaTokens", "DELETE FROM mfa_tokens WHERE expires_at < ?");

const toTotp = (row: TotpRow): TotpFactorRecord => ({
  userId: row.user_id,
  sealedSecret: row.sealed_secret,
  createdAt: Number(row.created_at),
  confirmedAt: row.confirmed_at === null ? null : Number(row.confirmed_at),
  lastUsedStep: row.last_used_step === null ? null : Number(row.last_used_step),
});

const toRecoveryCode = (row: RecoveryCodeRow): RecoveryCodeRecord => ({
  userId: row.user_id,
  hash: row.hash,
  createdAt: Number(row.created_at),
  usedAt: row.used_at === null ? null : Number(row.used_at),
});

const toMfaToken = (row: MfaTokenRow): MfaTokenRecord => ({
  hash: row.hash,
  userId: row.user_id,
  createdAt: Number(row.created_at),
  expiresAt: Number(row.expires_at),
  attempts: Number(row.attempts),
  usedAt: row.used_at === null ? null : Number(row.used_at),
});

export async function putPendingTotp(db: SqlRunner, f: TotpFactorRecord): Promise<boolean> {
  return (await db.run(PUT_PENDING_TOTP, [f.userId, f.sealedSecret, f.createdAt])) > 0;
}

export async function findTotp(db: SqlRunner, userId: string): Promise<TotpFactorRecord | null> {
  const row = await db.get(FIND_TOTP, [userId]);
  return row ? toTotp(row) : null;
}

export async function confirmTotp(db: SqlRunner, userId: string, at: number, step: number): Promise<boolean> {
  return (await db.run(CONFIRM_TOTP, [at, step, userId])) > 0;
}

export async function useTotpStep(db: SqlRunner, userId: string, step: number): Promise<boolean> {
  return (await db.run(USE_TOTP_STEP, [step, userId, step])) > 0;
}

export async function deleteTotp(db: SqlRunner, userId: string): Promise<boolean> {
  return (await db.run(DELETE_TOTP, [userId])) > 0;
}

export async function replaceRecoveryCodes(
  db: SqlRunner,
  userId: string,
  hashes: readonly string[],
  at: number,
): Promise<void> {
  await db.run(DELETE_RECOVERY, [userId]);
  for (const hash of hashes) await db.run(INSERT_RECOVERY, [userId, hash, at]);
}

export async function listUnusedRecoveryCodes(db: SqlRunner, userId: string): Promise<RecoveryCodeRecord[]> {
  return (await db.all(LIST_UNUSED_RECOVERY, [userId])).map(toRecoveryCode);
}

export async function useRecoveryCode(db: SqlRunner, userId: string, hash: string, at: number): Promise<boolean> {
  return (await db.run(USE_RECOVERY, [at, userId, hash])) > 0;
}

export async function deleteRecoveryCodes(db: SqlRunner, userId: string): Promise<void> {
  await db.run(DELETE_RECOVERY, [userId]);
}

export async function insertMfaToken(db: SqlRunner, t: MfaTokenRecord): Promise<void> {
  await db.run(INSERT_MFA_TOKEN, [t.hash, t.userId, t.createdAt, t.expiresAt, t.attempts, t.usedAt]);
}

export async function takeMfaTokenAttempt(
  db: SqlRunner,
  hash: string,
  now: number,
  maxAttempts: number,
): Promise<MfaTokenRecord | null> {
  if ((await db.run(TAKE_MFA_ATTEMPT, [hash, now, maxAttempts])) === 0) return null;
  const row = await db.get(FIND_MFA_TOKEN, [hash]);
  return row ? toMfaToken(row) : null;
}

export async function findLiveMfaToken(
  db: SqlRunner,
  hash: string,
  now: number,
  maxAttempts: number,
): Promise<MfaTokenRecord | null> {
  const row = await db.get(FIND_LIVE_MFA_TOKEN, [hash, now, maxAttempts]);
  return row ? toMfaToken(row) : null;
}

export async function consumeMfaToken(db: SqlRunner, hash: string, at: number): Promise<boolean> {
  return (await db.run(CONSUME_MFA_TOKEN, [at, hash])) > 0;
}

export async function pruneMfaTokens(db: SqlRunner, before: number): Promise<number> {
  return db.run(PRUNE_MFA_TOKENS, [before]);
}
