import { AuthError } from "../errors.ts";
import type { Setting } from "./setting.ts";

/**
 * The text of a command-line flag → the setting's value (default when the flag is absent),
 * checked like an environment variable. Throws AuthError("invalid_config") naming the flag.
 */
export function flagValue<T>(setting: Setting<T>, flag: string, raw: string | undefined): T {
  if (raw === undefined || raw.trim() === "") return setting.default;
  const value = setting.kind.fromText?.(raw);
  const parsed = value === undefined ? undefined : setting.kind.schema.safeParse(value);
  if (!parsed?.success) {
    throw new AuthError(
      "invalid_config",
      `${flag} must be ${setting.kind.expectedText} (got ${JSON.stringify(raw.slice(0, 40))}).`,
    );
  }
  const refused = setting.kind.check?.(parsed.data, flag);
  if (refused !== undefined) throw new AuthError("invalid_config", refused);
  return parsed.data;
}
