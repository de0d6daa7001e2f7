import type { RefreshRotationRequest, RefreshRotationResult, ReusedSession } from "../store/refresh-rotation.ts";
import type { SessionRecord, Store, TransactionOps } from "../store/store.ts";

/** Is the session open and inside both its idle and absolute lifetimes at `now`? */
export function isSessionLive(session: SessionRecord, now: number): boolean {
  return session.endedAt === null && now < session.idleExpiresAt && now < session.absoluteExpiresAt;
}

/**
 * Ends the session of a reused token in `tx` and, if this call ended it, runs the request's
 * `onReused` there too, so the ending and its event commit together. False when the session
 * had already ended (a concurrent reuse or logout won): then nothing is written or recorded.
 */
export async function endReusedSession(
  tx: TransactionOps,
  request: Pick<RefreshRotationRequest, "now" | "onReused">,
  reused: ReusedSession,
): Promise<boolean> {
  if (!(await tx.endSession(reused.sessionId, request.now, "refresh_token_reuse"))) return false;
  await request.onReused?.(tx, reused);
  return true;
}

/**
 * A refresh rotation in one store transaction, with a row lock on the presented token so
 * concurrent rotations of it take turns. Any store can run it; the SQL store uses it on
 * SQLite, while PostgreSQL decides in a single statement (and ends a reused session with
 * {@link endReusedSession} in a transaction of its own).
 */
export function rotateInTransaction(
  store: Pick<Store, "transaction">,
  request: RefreshRotationRequest,
): Promise<RefreshRotationResult> {
  const { hash, successorHash, now, idleMs, graceMs } = request;
  return store.transaction(async (tx): Promise<RefreshRotationResult> => {
    const row = await tx.lockRefreshToken(hash);
    if (!row) return { outcome: "unknown" };
    const session = await tx.findSession(row.sessionId);
    if (!session || session.endedAt !== null) return { outcome: "ended" };
    if (!isSessionLive(session, now)) {
      await tx.endSession(session.id, now, "expired");
      return { outcome: "expired" };
    }
    const user = await tx.findUserById(session.userId);
    if (!user || user.disabledAt !== null) {
      await tx.endSession(session.id, now, "user_disabled");
      return { outcome: "user_disabled" };
    }
    if (row.rotatedAt !== null) {
      if (now - row.rotatedAt <= graceMs) return { outcome: "grace", session, user };
      return (await endReusedSession(tx, request, { sessionId: session.id, userId: session.userId }))
        ? { outcome: "reused", sessionId: session.id, userId: session.userId }
        : { outcome: "ended" };
    }
    await tx.insertRefreshToken({ hash: successorHash, sessionId: session.id, createdAt: now, rotatedAt: null });
    await tx.markRefreshTokenRotated(row.hash, now);
    const idleExpiresAt = Math.min(now + idleMs, session.absoluteExpiresAt);
    await tx.touchSession(session.id, now, idleExpiresAt);
    return { outcome: "rotated", session: { ...session, lastUsedAt: now, idleExpiresAt }, user };
  });
}
