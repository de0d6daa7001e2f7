/** Small named values every instance shares, e.g. the refresh-rotation HMAC key. */
export interface SettingsStore {
  getSetting(name: string): Promise<string | null>;
  /** Inserts unless present; returns the value now stored (the first writer wins). */
  putSettingIfAbsent(name: string, value: string): Promise<string>;
}
