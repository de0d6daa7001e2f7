/*
 * The SecretBox context of each kind of stored secret: where the value lives. A sealed value
 * opens only under its own context, so a ciphertext copied into another row (another key's,
 * another user's) is refused instead of used.
 */

/** A signing key's private JWK. */
export const signingKeyContext = (kid: string): string => `signing_key:${kid}`;

/** A secret kept in the shared settings table. */
export const settingContext = (name: string): string => `setting:${name}`;

/** An outbox message whose payload holds a secret (e.g. a mail with a link). */
export const outboxPayloadContext = (id: string): string => `outbox:${id}`;

/** The settings that hold secrets, and so are stored sealed. */
export const SECRET_SETTINGS: readonly string[] = ["refresh_rotation_key"];
