/** An account. The password is only ever stored as an argon2id PHC string. */
export interface UserRecord {
  id: string;
  /** As the user typed it; lookups ignore case and Unicode width. */
  username: string;
  passwordHash: string;
  createdAt: number;
  disabledAt: number | null;
  roles: string[];
}

/** Accounts. */
export interface UserStore {
  /** @throws AuthError("username_taken") when the username differs from an existing one only in case or width. */
  insertUser(user: UserRecord): Promise<void>;
  /** Case- and width-insensitive ("Alice", "ALICE" and "Ａｌｉｃｅ" are one account). */
  findUserByUsername(username: string): Promise<UserRecord | null>;
  findUserById(id: string): Promise<UserRecord | null>;
  /** Oldest first. */
  listUsers(): Promise<UserRecord[]>;
  updatePasswordHash(userId: string, passwordHash: string): Promise<void>;
  setUserDisabled(userId: string, disabledAt: number | null): Promise<void>;
  setUserRoles(userId: string, roles: string[]): Promise<void>;
}
