import { availableParallelism } from "node:os";
import { z } from "zod";
import { type Clock, systemClock } from "../clock.ts";
import { parseKeyEncryptionKey } from "../crypto/key-encryption-key.ts";
import { parseWebhookSecret } from "../events/webhook-signature.ts";
import { assertStrongSecret } from "../keys/secret-strength.ts";
import { codeOnly, type Kind, oneOf, optional, origins, seconds, text, wholeNumber, yesNo } from "./kinds.ts";
import { setting } from "./setting.ts";

/**
 * Every Gatehouse setting, once: its values and range, default, environment variable or flag,
 * and one line of documentation. The `GatehouseOptions` type, `resolveConfig()`, the server's
 * environment, the CLI, `doctor` and docs/settings.md (`npm run docs:settings`) are all derived
 * from these tables. Adding a setting is adding an entry; cross-field rules are in rules.ts.
 */

const MINUTE = 60;
const HOUR = 3600;
const DAY = 86_400;

/** An HMAC key: checked for length and randomness, never echoed. */
function hmacSecret(): Kind<string> {
  return {
    ...text({ max: 4096, rule: "a random secret of at least 32 bytes (hex, base64 or text)" }),
    check(value, subject) {
      try {
        assertStrongSecret(value, subject);
        return undefined;
      } catch (error) {
        return error instanceof Error ? error.message : String(error);
      }
    },
  };
}

/** A key-encryption key: 32 random bytes as hex or base64, checked and never echoed. */
function keyEncryptionKey(): Kind<string> {
  return {
    ...text({ max: 256, rule: "32 random bytes written as hex (64 characters) or base64 (43 or 44 characters)" }),
    check(value, subject) {
      try {
        parseKeyEncryptionKey(value, subject);
        return undefined;
      } catch (error) {
        return error instanceof Error ? error.message : String(error);
      }
    },
  };
}

/** Plain HTTP only to this machine (a local mirror); elsewhere an attacker on the path could say "not breached". */
const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** The URL of a Have I Been Pwned-style range API; normalised to end in `/`. */
function rangeApiUrl(): Kind<string> {
  const base = text({ max: 2048, rule: "an https:// URL (http:// only for 127.0.0.1, localhost or [::1])" });
  return {
    ...base,
    schema: z
      .string()
      .min(1)
      .max(2048)
      .transform((url) => (url.endsWith("/") ? url : `${url}/`)),
    check(value, subject) {
      let url: URL;
      try {
        url = new URL(value);
      } catch {
        return `${subject} must be an absolute https:// URL of the range API (such as https://api.pwnedpasswords.com/range/).`;
      }
      if (url.protocol === "https:" || (url.protocol === "http:" && LOOPBACK_HOSTS.has(url.hostname))) return undefined;
      return `${subject} must use https:// (plain http:// is allowed only for 127.0.0.1, localhost or [::1]).`;
    },
  };
}

/** Where webhooks go: an absolute http(s) URL. */
function webhookUrl(): Kind<string> {
  return {
    ...text({ max: 2048, rule: "an absolute http:// or https:// URL" }),
    check(value, subject) {
      let url: URL | undefined;
      try {
        url = new URL(value);
      } catch {
        url = undefined;
      }
      if (url?.protocol === "https:" || url?.protocol === "http:") return undefined;
      return `${subject} must be an absolute http:// or https:// URL (the receiver of the security events).`;
    },
  };
}

/** Where mailed links point: the page that posts their token (an origin, maybe with a path). */
function publicUrl(): Kind<string> {
  return {
    ...text({ max: 2048, rule: "an http:// or https:// URL" }),
    schema: z
      .string()
      .min(1)
      .max(2048)
      .transform((url) => url.replace(/\/+$/, "")),
    check(value, subject) {
      try {
        const url = new URL(value);
        if ((url.protocol === "https:" || url.protocol === "http:") && url.hash === "" && url.search === "") {
          return undefined;
        }
      } catch {
        // Reported below.
      }
      return (
        `${subject} must be an http:// or https:// URL without query or fragment, ` +
        "such as https://auth.example.com."
      );
    },
  };
}

/** A Standard Webhooks secret (`whsec_` + base64 of 24–64 bytes); never echoed. */
function webhookSecret(): Kind<string> {
  return {
    ...text({ max: 200, rule: "whsec_ followed by the base64 of 24 to 64 random bytes" }),
    check(value, subject) {
      try {
        parseWebhookSecret(value, subject);
        return undefined;
      } catch (error) {
        return error instanceof Error ? error.message : String(error);
      }
    },
  };
}

/** An SMTP server: smtp:// (STARTTLS when offered) or smtps:// (TLS from the start), credentials in the URL. */
function smtpUrl(): Kind<string | undefined> {
  return optional({
    ...text({ max: 2048, rule: "smtp://user:pass@host:port or smtps://…" }),
    check(value, subject) {
      try {
        const url = new URL(value);
        if ((url.protocol === "smtp:" || url.protocol === "smtps:") && url.hostname !== "") return undefined;
      } catch {
        // Reported below.
      }
      return `${subject} must be smtp://user:pass@host:port or smtps://user:pass@host:port.`;
    },
  });
}

/**
 * Failed-login throttling, after the OWASP Authentication Cheat Sheet (lockout threshold,
 * observation window, lockout duration, and the warning that lockouts let an attacker deny
 * service). Keyed by account *and* address, so an attacker elsewhere cannot lock the real user
 * out; 10 is generous to a fumbling user and, with the 15-character policy and the common-
 * password check, leaves an online guesser about a thousand tries a day per address. The
 * per-address limit of 100 stops credential stuffing and spraying from one address with room
 * for a shared NAT. `LOGIN_WINDOW` sets every window and block at once.
 */
function throttleLimit(what: string, attempts: { env: string; default: number }) {
  return {
    attempts: setting(wholeNumber(1, 1_000_000), { ...attempts, doc: `Failed logins allowed ${what} per window.` }),
    windowSeconds: setting(seconds(1, 7 * DAY), {
      env: "LOGIN_WINDOW",
      default: 15 * MINUTE,
      doc: `Window in which failed logins ${what} are counted; it starts with the first failure.`,
    }),
    blockSeconds: setting(seconds(0, DAY), {
      env: "LOGIN_WINDOW",
      default: 15 * MINUTE,
      doc: `How long logins ${what} are refused once the limit is reached (0: until the window ends).`,
    }),
  };
}

/**
 * Every login attempt, right or wrong, counted before the password is checked (unlike
 * `throttleLimit`, which counts failures). Per address, 60 a minute bounds the hashing one address
 * can ask for with room for an office behind one NAT address; per account, 100 per 15 minutes
 * bounds guessing of one account from any number of addresses (NIST SP 800-63B: at most 100).
 */
function attemptLimit(what: string, attempts: { env: string; default: number; doc?: string }, windowDefault: number) {
  const { doc = "", ...rest } = attempts;
  return {
    attempts: setting(wholeNumber(1, 1_000_000), {
      ...rest,
      doc: `Login attempts, right or wrong, allowed ${what} per window.${doc}`,
    }),
    windowSeconds: setting(seconds(1, DAY), {
      default: windowDefault,
      doc: `Window in which login attempts ${what} are counted; it starts with the first.`,
    }),
  };
}

/** Options of `createGatehouse()`; most also have an environment variable for the standalone server. */
export const OPTION_SETTINGS = {
  database: setting(text({ max: 4096 }), {
    env: "DATABASE_URL",
    default: "sqlite:./data/gatehouse.db",
    sensitive: true,
    doc:
      "`sqlite:<path>`, `sqlite::memory:` or `postgres://user:pass@host/db` " +
      "(instances sharing one PostgreSQL share users, sessions, keys and throttling).",
  }),
  issuer: setting(text({ max: 512 }), { env: "ISSUER", default: "gatehouse", doc: "`iss` of access tokens." }),
  audience: setting(text({ max: 512 }), { env: "AUDIENCE", default: "gatehouse", doc: "`aud` of access tokens." }),
  accessTokenTtlSeconds: setting(seconds(1, DAY), {
    env: "ACCESS_TOKEN_TTL",
    default: 15 * MINUTE,
    doc: "Access-token lifetime.",
  }),
  clockToleranceSeconds: setting(seconds(0, MINUTE), {
    env: "CLOCK_TOLERANCE",
    default: MINUTE,
    doc:
      "Clock skew allowed when checking a token's `exp`, `nbf` and `iat`. " +
      "With `requireAuth({ checkSession: false })` a signed-out token keeps working for the token lifetime plus this.",
  }),
  accessTokenSecret: setting(optional(hmacSecret()), {
    env: "ACCESS_TOKEN_SECRET",
    default: undefined,
    sensitive: true,
    doc: "An HMAC secret switches access tokens to HS256 (the JWKS is then empty); `npx gatehouse secret` prints one.",
  }),
  introspectionToken: setting(optional(hmacSecret()), {
    env: "INTROSPECTION_TOKEN",
    default: undefined,
    sensitive: true,
    defaultDoc: "unset: introspection is off (404)",
    doc: "Bearer token resource servers present to `POST /auth/introspect` (RFC 7662); `npx gatehouse secret` prints one.",
  }),
  keyEncryptionKey: setting(optional(keyEncryptionKey()), {
    env: "KEY_ENCRYPTION_KEY",
    default: undefined,
    sensitive: true,
    defaultDoc: "unset: generated into a key file on the first start",
    doc:
      "Encrypts private keys and other stored secrets at rest (32 random bytes, hex or base64). Unset: generated " +
      "into `key-encryption-key` next to the SQLite file (or `./data/` for PostgreSQL) on the first start.",
  }),
  signingAlgorithm: setting(oneOf(["EdDSA", "ES256"]), {
    env: "JWT_ALGORITHM",
    default: "EdDSA",
    doc: "Signing algorithm when no secret is set; keys are generated and kept in the database.",
  }),
  refreshIdleSeconds: setting(seconds(MINUTE, 365 * DAY), {
    env: "REFRESH_IDLE_TTL",
    default: 7 * DAY,
    doc: "A session ends after this long without a refresh.",
  }),
  refreshAbsoluteSeconds: setting(seconds(MINUTE, 366 * DAY), {
    env: "REFRESH_ABSOLUTE_TTL",
    default: 30 * DAY,
    doc: "A session ends this long after login, whatever happens.",
  }),
  refreshGraceSeconds: setting(seconds(0, MINUTE), {
    env: "REFRESH_GRACE",
    default: 5,
    doc: "A rotated refresh token still yields the same successor this long (concurrent tabs); 0 = off.",
  }),
  allowedOrigins: setting(origins(), {
    env: "ALLOWED_ORIGINS",
    default: [],
    doc: "Origins besides the server's own allowed to use the refresh cookie.",
  }),
  cookie: {
    name: setting(text({ max: 64, pattern: /^[A-Za-z0-9_-]+$/, rule: "1 to 64 letters, digits, _ and -" }), {
      env: "COOKIE_NAME",
      default: "gatehouse_refresh",
      doc: "Name of the refresh cookie.",
    }),
    path: setting(optional(text({ max: 1024, pattern: /^\/[\x21-\x7e]*$/, rule: "a path starting with /" })), {
      default: undefined,
      defaultDoc: "where the router is mounted",
      doc: "`Path` of the refresh cookie.",
    }),
    secure: setting(yesNo(), {
      env: "COOKIE_SECURE",
      default: true,
      doc: "`Secure` refresh cookie; false only for local development over plain HTTP.",
    }),
  },
  registrationOpen: setting(yesNo({ yes: "open", no: "closed" }), {
    env: "REGISTRATION",
    default: true,
    doc: "Whether `POST /auth/register` creates accounts (`gatehouse users add` always can).",
  }),
  password: {
    minLength: setting(wholeNumber(8, 1024), {
      env: "PASSWORD_MIN_LENGTH",
      default: 15,
      doc: "Shortest password, in characters after NFKC.",
    }),
    maxLength: setting(wholeNumber(8, 1024), {
      env: "PASSWORD_MAX_LENGTH",
      default: 256,
      doc: "Longest password, in characters after NFKC.",
    }),
    // k-anonymity: only the first 5 hex characters of the password's SHA-1 leave the server.
    breached: {
      mode: setting(oneOf(["off", "check", "required"]), {
        env: "BREACHED_PASSWORDS",
        default: "off",
        doc:
          "Refuse passwords found in data breaches (range API): `check` accepts when the API cannot answer, " +
          "`required` answers 503 then.",
      }),
      url: setting(rangeApiUrl(), {
        env: "BREACHED_PASSWORDS_URL",
        default: "https://api.pwnedpasswords.com/range/",
        doc: "The breached-password range endpoint (Have I Been Pwned or a mirror).",
      }),
      timeoutMs: setting(wholeNumber(1, 60_000), {
        default: 2000,
        doc: "How long one breached-password lookup may take, in milliseconds.",
      }),
    },
  },
  // OWASP Password Storage Cheat Sheet, argon2id: 19 MiB, 2 passes, 1 lane (rules.ts holds its minimum table).
  argon2: {
    memoryCost: setting(wholeNumber(7168, 4_194_304), { default: 19_456, doc: "argon2id memory per hash, in KiB." }),
    timeCost: setting(wholeNumber(1, 100), { default: 2, doc: "argon2id passes over the memory." }),
    parallelism: setting(wholeNumber(1, 16), { default: 1, doc: "argon2id lanes." }),
    // Hashing runs on libuv's thread pool; a core left free keeps the event loop answering during a login flood.
    maxConcurrent: setting(wholeNumber(1, 64), {
      default: 1,
      defaultFrom: () => Math.max(1, availableParallelism() - 1),
      defaultDoc: "cores − 1, at least 1",
      doc: "Password hashes computed at once.",
    }),
    maxQueued: setting(wholeNumber(0, 100_000), {
      default: 256,
      doc: "Password hashes allowed to wait; past that, `429` with `Retry-After: 1`.",
    }),
    // Two places per address: one address can delay another user's login by at most two hashes.
    maxPerAddress: setting(wholeNumber(1, 10_000), {
      env: "HASHES_PER_IP",
      default: 2,
      doc:
        "Password hashes one client address may have running or waiting (login, register, password change); " +
        "past that, `429`.",
    }),
  },
  loginThrottle: {
    perAccountAndIp: throttleLimit("for one username from one address", { env: "LOGIN_MAX_ATTEMPTS", default: 10 }),
    perIp: throttleLimit("from one address", { env: "LOGIN_MAX_ATTEMPTS_PER_IP", default: 100 }),
  },
  loginRate: {
    perIp: attemptLimit("from one address", { env: "LOGIN_RATE_PER_IP", default: 60 }, MINUTE),
    perAccount: attemptLimit(
      "on one account from any address",
      {
        env: "LOGIN_RATE_PER_ACCOUNT",
        default: 100,
        doc: " An address the account logged in from in the last 14 days is never refused.",
      },
      15 * MINUTE,
    ),
  },
  // A user's devices, with room to spare; the cap stops a script growing one user's sessions without end.
  maxSessionsPerUser: setting(wholeNumber(1, 100_000), {
    env: "MAX_SESSIONS_PER_USER",
    default: 100,
    doc: "Live sessions per user; a login past it ends the oldest (end reason `session_limit`).",
  }),
  sessionPruneIntervalSeconds: setting(seconds(0, 7 * DAY), {
    env: "SESSION_PRUNE_INTERVAL",
    default: HOUR,
    doc: "How often the server deletes sessions ended or expired longer ago than the retention (0: never).",
  }),
  // At least a day, the longest an access token lives: whoever catches up on ended sessions still finds them.
  sessionRetentionSeconds: setting(seconds(DAY, 366 * DAY), {
    env: "SESSION_RETENTION",
    default: 7 * DAY,
    doc: "How long ended and expired sessions are kept before pruning (also `gatehouse sessions prune`).",
  }),
  registrationsPerIpPerHour: setting(wholeNumber(1, 1_000_000), {
    default: 20,
    doc: "Registration attempts allowed per address per hour; a password refused as weak counts too (judging it costs CPU).",
  }),
  publicUrl: setting(publicUrl(), {
    env: "PUBLIC_URL",
    default: "http://localhost:3000",
    doc:
      "Where users reach this server; mailed links open it with the token in the fragment (`#verify=…`), " +
      "and passkeys are bound to its host (the WebAuthn RP id) and origin.",
  }),
  email: {
    verification: setting(oneOf(["optional", "required"]), {
      env: "EMAIL_VERIFICATION",
      default: "optional",
      doc: "`required`: an account logs in only once its address is verified (`403 email_not_verified`).",
    }),
    smtpUrl: setting(smtpUrl(), {
      env: "SMTP_URL",
      default: undefined,
      defaultDoc: "mails written as .eml files to the mail outbox directory",
      sensitive: true,
      doc: "SMTP server mail goes out through: `smtp://user:pass@host:port` or `smtps://…`.",
    }),
    from: setting(text({ max: 512 }), {
      env: "EMAIL_FROM",
      default: "Gatehouse <no-reply@localhost>",
      doc: "`From` of every mail.",
    }),
    outboxDir: setting(text({ max: 4096 }), {
      env: "MAIL_OUTBOX_DIR",
      default: "./data/outbox",
      doc: "Without `SMTP_URL`, each mail is written here as an `.eml` file (directory 0700, files 0600).",
    }),
    requestsPerAddressPerHour: setting(wholeNumber(1, 1000), {
      default: 5,
      doc: "Reset and verification mails that may be asked for per address per hour.",
    }),
    requestsPerIpPerHour: setting(wholeNumber(1, 1_000_000), {
      default: 30,
      doc: "Reset and verification mails that may be asked for per client address per hour.",
    }),
  },
  bodyLimitBytes: setting(wholeNumber(1024, 1_048_576), {
    env: "BODY_LIMIT_BYTES",
    default: 16_384,
    doc: "Largest JSON request body, in bytes.",
  }),
  verifyCacheSize: setting(wholeNumber(0, 10_000_000), {
    default: 10_000,
    doc: "Verified access tokens kept in memory (0 turns the cache off).",
  }),
  // Metrics tell an attacker what works (which limits fire, how often): off unless asked for.
  metrics: setting(oneOf(["off", "public"]), {
    env: "METRICS",
    default: "off",
    doc: "`public` serves `GET /metrics` (Prometheus text) to anyone; `off` answers 404 unless `METRICS_TOKEN` is set.",
  }),
  metricsToken: setting(
    optional(text({ max: 1024, pattern: /^[\x21-\x7e]{32,}$/, rule: "32 to 1024 visible ASCII characters" })),
    {
      env: "METRICS_TOKEN",
      default: undefined,
      sensitive: true,
      doc:
        "Bearer token `GET /metrics` requires; setting it turns metrics on, even with `METRICS=off` " +
        "(`npx gatehouse secret` prints one).",
    },
  ),
  auditRetentionSeconds: setting(seconds(HOUR, 3650 * DAY), {
    env: "AUDIT_RETENTION",
    default: 90 * DAY,
    doc: "Security events (the audit trail) are deleted this long after they happened; checked every hour.",
  }),
  webhook: {
    url: setting(optional(webhookUrl()), {
      env: "WEBHOOK_URL",
      default: undefined,
      sensitive: true,
      doc: "Each security event is POSTed here as JSON, signed as Standard Webhooks specifies (needs `WEBHOOK_SECRET`).",
    }),
    secret: setting(optional(webhookSecret()), {
      env: "WEBHOOK_SECRET",
      default: undefined,
      sensitive: true,
      doc: "Signing secret of the webhooks: `whsec_` and the base64 of 24–64 random bytes.",
    }),
    timeoutSeconds: setting(seconds(1, MINUTE), {
      env: "WEBHOOK_TIMEOUT",
      default: 10,
      doc: "How long one webhook call may take before it counts as failed (and is retried).",
    }),
  },
  // Defaults: waits of 5 s doubling to an hour; the 20th failure gives up, about 8–10 hours after the event.
  outbox: {
    retryBaseSeconds: setting(seconds(1, HOUR), {
      env: "OUTBOX_RETRY_BASE",
      default: 5,
      doc: "Wait before retrying a failed webhook or mail; each later wait doubles (with jitter).",
    }),
    retryMaxSeconds: setting(seconds(1, DAY), {
      env: "OUTBOX_RETRY_MAX",
      default: HOUR,
      doc: "Longest wait between two attempts of one webhook or mail.",
    }),
    maxAttempts: setting(wholeNumber(1, 100), {
      env: "OUTBOX_MAX_ATTEMPTS",
      default: 20,
      doc: "Attempts of one webhook or mail before it is given up (kept as dead, never sent).",
    }),
  },
  realm: setting(
    text({ max: 128, pattern: /^[\x20-\x21\x23-\x5b\x5d-\x7e]+$/, rule: "printable ASCII, no quote or backslash" }),
    {
      default: "gatehouse",
      doc: "`realm` of `WWW-Authenticate` challenges.",
    },
  ),
  clock: setting(
    codeOnly<Clock>(
      z.custom<Clock>((value) => typeof (value as Clock | undefined)?.now === "function"),
      "an object with a now() method",
      () => "system clock",
    ),
    { default: systemClock, doc: "Time source; tests pass a `ManualClock`." },
  ),
};

/** Settings of the standalone server only (`npm start`, `gatehouse serve`): environment variables. */
export const SERVER_SETTINGS = {
  port: setting(wholeNumber(0, 65_535), {
    env: "PORT",
    default: 3000,
    doc: "TCP port to listen on (0: any free port).",
  }),
  host: setting(text({ max: 253 }), { env: "HOST", default: "localhost", doc: "Address to listen on." }),
  logLevel: setting(oneOf(["fatal", "error", "warn", "info", "debug", "trace", "silent"]), {
    env: "LOG_LEVEL",
    default: "info",
    doc: "Least severe log level written (JSON lines on stdout).",
  }),
  trustProxy: setting(wholeNumber(0, 10), {
    env: "TRUST_PROXY",
    default: 0,
    doc: "How many reverse proxies' `X-Forwarded-For` to believe for the client address.",
  }),
  // Drain plus timeout stay inside Kubernetes' default 30 s grace period before SIGKILL.
  shutdownDrainSeconds: setting(seconds(0, 5 * MINUTE), {
    env: "SHUTDOWN_DRAIN",
    default: 5,
    doc: "After SIGTERM/SIGINT, keep serving this long with `/readyz` at 503, so load balancers move away.",
  }),
  shutdownTimeoutSeconds: setting(seconds(1, 10 * MINUTE), {
    env: "SHUTDOWN_TIMEOUT",
    default: 20,
    doc: "Then, how long requests in flight may take before their connections are closed.",
  }),
};

/** Settings only a command of the `gatehouse` CLI has. */
export const CLI_SETTINGS = {
  /**
   * JWKS consumers cache keys (Gatehouse serves `max-age=300`, the remote key set refetches every
   * 10 minutes) and instances reload their rings every minute: an hour lets every cache learn the
   * new key before the first token uses it.
   */
  publishAheadSeconds: setting(seconds(0, 30 * DAY), {
    flag: "keys rotate --publish-ahead",
    default: HOUR,
    doc: "Time between publishing a new signing key and its first signature.",
  }),
};
