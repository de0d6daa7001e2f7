/** What a mailed link is for; a token of one purpose never works for another. */
export type MailTokenPurpose = "verify_email" | "reset_password";

/**
 * A link sent by mail. Only the SHA-256 of the token is stored; the link itself exists only
 * in the (sealed) outbox message and the recipient's mailbox.
 */
export interface MailTokenRecord {
  hash: string;
  userId: string;
  purpose: MailTokenPurpose;
  /** The address the link was sent to, as typed; the link works only while it still applies. */
  email: string;
  createdAt: number;
  expiresAt: number;
  /** Set when used, or when a newer link of the same purpose voided it. */
  usedAt: number | null;
}

/** Mail tokens. */
export interface MailTokenStore {
  insertMailToken(token: MailTokenRecord): Promise<void>;
  findMailToken(hash: string): Promise<MailTokenRecord | null>;
  /** Marks the token used if it was not yet; true only for the one caller that did. */
  useMailToken(hash: string, at: number): Promise<boolean>;
  /** Voids every unused token of that user and purpose; returns how many. */
  voidMailTokens(userId: string, purpose: MailTokenPurpose, at: number): Promise<number>;
  /** Deletes tokens that expired before `before`; returns how many. */
  pruneMailTokens(before: number): Promise<number>;
}
