import type { RefreshRotationRequest, RefreshRotationResult } from "../store/refresh-rotation.ts";
import type { SessionRecord, Store } from "../store/store.ts";

/** Is the session open and inside both its idle and absolute lifetimes at `now`? */
export function isSessionLive(session: SessionRecord, now: number): boolean {
  return session.endedAt === null && now < session.idleExpiresAt && now < session.absoluteExpiresAt;
}

/**
 * A refresh rotation in one store transaction, with a row lock on the presented token so
 * concurrent rotations of it take turns. Any store can run it; the SQL store uses it on
 * SQLite, while PostgreSQL does the same in a single statement.
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
      if (now - row.rotatedAt > graceMs) {
        await tx.endSession(session.id, now, "refresh_token_reuse");
        return { outcome: "reused", sessionId: session.id, userId: session.userId };
      }
      return { outcome: "grace", session, user };
    }
    await tx.insertRefreshToken({ hash: successorHash, sessionId: session.id, createdAt: now, rotatedAt: null });
    await tx.markRefreshTokenRotated(row.hash, now);
    const idleExpiresAt = Math.min(now + idleMs, session.absoluteExpiresAt);
    await tx.touchSession(session.id, now, idleExpiresAt);
    return { outcome: "rotated", session: { ...session, lastUsedAt: now, idleExpiresAt }, user };
  });
}
