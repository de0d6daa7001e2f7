/** An account. The password is only ever stored as an argon2id PHC string. */
export interface UserRecord {
  id: string;
  /** As the user typed it; lookups ignore case and Unicode width. */
  username: string;
  passwordHash: string;
  createdAt: number;
  disabledAt: number | null;
  roles: string[];
  /** As the user typed it (trimmed); unique ignoring case. Absent on records built before email existed. */
  email?: string | null;
  /** When the address was proven by a mailed link; null while unverified. */
  emailVerifiedAt?: number | null;
}

/** An address already belongs to another account (a race past the service's own check). */
export class EmailTakenError extends Error {
  override readonly name = "EmailTakenError";
}

/** Accounts. */
export interface UserStore {
  /**
   * @throws AuthError("username_taken") when the username differs from an existing one only in case or width.
   * @throws EmailTakenError when another account has the address.
   */
  insertUser(user: UserRecord): Promise<void>;
  /** Case- and width-insensitive ("Alice", "ALICE" and "Ａｌｉｃｅ" are one account). */
  findUserByUsername(username: string): Promise<UserRecord | null>;
  findUserById(id: string): Promise<UserRecord | null>;
  /** Case-insensitive, by the address's key. */
  findUserByEmail(email: string): Promise<UserRecord | null>;
  /**
   * Sets (or with null removes) the address and its verification time.
   * @throws EmailTakenError when another account has that address.
   */
  setUserEmail(userId: string, email: string | null, verifiedAt: number | null): Promise<void>;
  /** Oldest first. */
  listUsers(): Promise<UserRecord[]>;
  updatePasswordHash(userId: string, passwordHash: string): Promise<void>;
  setUserDisabled(userId: string, disabledAt: number | null): Promise<void>;
  setUserRoles(userId: string, roles: string[]): Promise<void>;
}
