import type { Command } from "commander";
import { systemClock } from "../../core/clock.ts";
import { CLI_SETTINGS } from "../../core/config.ts";
import { flagValue } from "../../core/config/flags.ts";
import { formatDuration } from "../../core/config/kinds.ts";
import { AuthError, isAuthError } from "../../core/errors.ts";
import { loadKeyRing, rotateSigningKeys, sealedSigningKeys } from "../../core/keys/key-ring.ts";
import { revokeSigningKey } from "../../core/keys/key-revocation.ts";
import { isExpired, isRetired, signingRecordAt } from "../../core/keys/signing-key-choice.ts";
import type { SigningKeyRecord } from "../../core/store/store.ts";
import { keyFileFor } from "../../store/open-store.ts";
import { withGatehouse, withStore } from "../connect.ts";
import { cliEnvironment, cliSettings, databaseUrl, type GlobalOptions } from "../environment.ts";
import { reencryptStoredSecrets } from "../key-reencryption.ts";
import { isoTime, printJson, printLines, printTable } from "../output.ts";
import { UsageError } from "../usage-error.ts";

const PUBLISH_AHEAD = CLI_SETTINGS.publishAheadSeconds;

/** `--publish-ahead` text → seconds, checked by the settings table; a bad value is a usage error (exit 2). */
function publishAheadFrom(text: string): number {
  try {
    return flagValue(PUBLISH_AHEAD, "--publish-ahead", text);
  } catch (error) {
    throw isAuthError(error) ? new UsageError(error.message) : error;
  }
}

/** Where a stored key is in its life at `now`. */
export type KeyState = "pending" | "active" | "standby" | "retired" | "expired";

/**
 * pending: published, signs later; active: the key that signs now (chooseSigningKey, the
 * servers' own rule); standby: could sign but a newer key does; retired: verifies only;
 * expired: gone from JWKS.
 */
export function keyStates(records: readonly SigningKeyRecord[], now: number): Map<string, KeyState> {
  const signing = signingRecordAt(records, now);
  const states = new Map<string, KeyState>();
  for (const key of records) {
    if (isExpired(key, now)) states.set(key.kid, "expired");
    else if (isRetired(key, now)) states.set(key.kid, "retired");
    else if (key.activatesAt > now) states.set(key.kid, "pending");
    else states.set(key.kid, key === signing ? "active" : "standby");
  }
  return states;
}

/** Public view of a key: never the private JWK. */
function describeKeys(records: readonly SigningKeyRecord[], now: number) {
  const states = keyStates(records, now);
  return [...records]
    .sort((a, b) => b.createdAt - a.createdAt)
    .map((key) => ({
      kid: key.kid,
      alg: key.alg,
      state: states.get(key.kid) ?? "expired",
      createdAt: isoTime(key.createdAt),
      activatesAt: isoTime(key.activatesAt),
      retiredAt: isoTime(key.retiredAt),
      expiresAt: isoTime(key.expiresAt),
    }));
}

export function registerKeysCommand(program: Command): void {
  const keys = program.command("keys").description("list, rotate or revoke the signing keys stored in the database");

  keys
    .command("list")
    .description("list signing keys with their state (pending, active, standby, retired, expired)")
    .option("--json", "print JSON")
    .action(async (options: { json?: boolean }, command: Command) => {
      const rows = await withStore(command.optsWithGlobals<GlobalOptions>(), async (store) =>
        describeKeys(await store.listSigningKeys(), systemClock.now()),
      );
      if (options.json) return printJson(rows);
      if (rows.length === 0)
        return printLines("No signing keys yet; they are created on first start (or by `gatehouse keys rotate`).");
      printTable(
        ["KID", "ALG", "STATE", "CREATED", "ACTIVATES", "RETIRED", "EXPIRES"],
        rows.map((k) => [k.kid, k.alg, k.state, k.createdAt, k.activatesAt, k.retiredAt, k.expiresAt]),
      );
    });

  keys
    .command("rotate")
    .description(
      "publish a new signing key now; it starts signing after --publish-ahead " +
        "(old keys verify until their tokens expire)",
    )
    .option(
      "--publish-ahead <duration>",
      `${PUBLISH_AHEAD.doc} (${PUBLISH_AHEAD.kind.summary})`,
      formatDuration(PUBLISH_AHEAD.default),
    )
    .option("--json", "print JSON")
    .action(async (options: { publishAhead: string; json?: boolean }, command: Command) => {
      const publishAheadSeconds = publishAheadFrom(options.publishAhead);
      const result = await withGatehouse(command.optsWithGlobals<GlobalOptions>(), async (auth) => {
        if (auth.keys.isHmac) {
          throw new AuthError(
            "invalid_config",
            "ACCESS_TOKEN_SECRET is set, so tokens are HS256 and no keys are stored; " +
              "rotate by changing the secret instead.",
          );
        }
        const { config } = auth;
        const store = sealedSigningKeys(auth.store, auth.secretBox);
        // Make sure a key signs until the new one activates (fresh database, or keys retired by hand).
        await loadKeyRing(store, {
          algorithm: config.signingAlgorithm,
          clock: config.clock,
          accessTokenTtlSeconds: config.accessTokenTtlSeconds,
        });
        const kid = await rotateSigningKeys(store, {
          algorithm: config.signingAlgorithm,
          clock: config.clock,
          accessTokenTtlSeconds: config.accessTokenTtlSeconds,
          publishAheadSeconds,
        });
        const stored = (await store.listSigningKeys()).find((key) => key.kid === kid);
        return { kid, alg: config.signingAlgorithm, activatesAt: isoTime(stored?.activatesAt ?? null) };
      });
      if (options.json) return printJson(result);
      printLines(
        `Published ${result.alg} key ${result.kid}; it starts signing at ${result.activatesAt}.`,
        "Running servers pick it up within a second (within a minute while their database change feed is down).",
      );
    });

  keys
    .command("reencrypt")
    .description(
      "re-encrypt every stored secret (private keys, rotation key) with a new key-encryption key, in one transaction",
    )
    .option(
      "--new-key-file <path>",
      "file holding the new key (32 bytes, hex or base64); default NEW_KEY_ENCRYPTION_KEY, else one is generated",
    )
    .option("--json", "print JSON")
    .addHelpText(
      "after",
      "\nThe current key is KEY_ENCRYPTION_KEY, or the key-encryption-key file next to the database. When the key\n" +
        "lives in that file, the file is replaced by the new key (0600, atomically). When it comes from\n" +
        "KEY_ENCRYPTION_KEY, give the new key and set KEY_ENCRYPTION_KEY to it afterwards. Restart every instance.",
    )
    .action(async (options: { newKeyFile?: string; json?: boolean }, command: Command) => {
      const global = command.optsWithGlobals<GlobalOptions>();
      const settings = cliSettings(global);
      const database = databaseUrl(settings);
      const result = await withStore(global, (store) =>
        reencryptStoredSecrets(store, {
          currentSetting: settings.config.keyEncryptionKey,
          keyFile: keyFileFor(database),
          newKeySetting: cliEnvironment(global)["NEW_KEY_ENCRYPTION_KEY"] || undefined,
          newKeyFile: options.newKeyFile,
        }),
      );
      if (options.json) return printJson(result);
      const was = result.previousKeyId === null ? "" : ` (was key id ${result.previousKeyId})`;
      printLines(`Re-encrypted ${result.reencrypted} stored secret(s) with key id ${result.keyId}${was}.`);
      if (result.keyFile !== null) {
        const how = result.generated ? "A new key was generated into" : "The new key is in";
        printLines(`${how} ${result.keyFile}. Restart every running Gatehouse instance.`);
      } else {
        printLines("Now set KEY_ENCRYPTION_KEY to the new key on every instance and restart them.");
      }
    });

  keys
    .command("revoke")
    .argument("<kid>", "the key id, as `keys list` shows it")
    .description(
      "remove a signing key at once (it leaked): tokens it signed stop verifying on every running server; " +
        "a new key signs from now if it was the signing one",
    )
    .option("--json", "print JSON")
    .action(async (kid: string, options: { json?: boolean }, command: Command) => {
      const result = await withGatehouse(command.optsWithGlobals<GlobalOptions>(), async (auth) => {
        if (auth.keys.isHmac) {
          throw new AuthError(
            "invalid_config",
            "ACCESS_TOKEN_SECRET is set, so tokens are HS256 and no keys are stored; change the secret instead.",
          );
        }
        const { config } = auth;
        return revokeSigningKey(sealedSigningKeys(auth.store, auth.secretBox), kid, {
          algorithm: config.signingAlgorithm,
          clock: config.clock,
          accessTokenTtlSeconds: config.accessTokenTtlSeconds,
        });
      });
      if (options.json) return printJson(result);
      if (!result.removed) return printLines(`Key ${result.kid} had already expired; nothing changed.`);
      printLines(
        `Removed key ${result.kid}: running servers stop accepting the tokens it signed within a second.` +
          (result.replacementKid ? ` Key ${result.replacementKid} signs from now.` : ""),
        "Resource servers that verify through the JWKS drop it when they next refresh their key cache.",
      );
    });
}
