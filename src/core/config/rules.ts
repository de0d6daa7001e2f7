import type { Naming, Problem } from "./naming.ts";
import type { OPTION_SETTINGS } from "./settings.ts";
import type { PathOf, ResolvedOf } from "./setting.ts";

type Options = ResolvedOf<typeof OPTION_SETTINGS>;
type OptionPath = PathOf<typeof OPTION_SETTINGS>;

/**
 * OWASP Password Storage Cheat Sheet, argon2id: equivalent minimum configurations (memory
 * KiB, passes), all with one lane. At or above one of these rows is accepted.
 */
const OWASP_ARGON2_MINIMUMS: readonly { memoryCost: number; timeCost: number }[] = [
  { memoryCost: 47_104, timeCost: 1 },
  { memoryCost: 19_456, timeCost: 2 },
  { memoryCost: 12_288, timeCost: 3 },
  { memoryCost: 9_216, timeCost: 4 },
  { memoryCost: 7_168, timeCost: 5 },
];

/** The least memory OWASP allows for `timeCost` passes. */
function owaspMinimumMemory(timeCost: number): number {
  let minimum = Number.POSITIVE_INFINITY;
  for (const row of OWASP_ARGON2_MINIMUMS) if (timeCost >= row.timeCost) minimum = Math.min(minimum, row.memoryCost);
  return minimum;
}

/**
 * Rules between settings, checked after each setting passed its own range. Messages name the
 * settings as `naming` says (option path in code, variable from the environment).
 */
export function crossFieldProblems(options: Options, naming: Naming): Problem[] {
  const problems: Problem[] = [];
  const problem = (path: OptionPath, sentence: string) =>
    problems.push({ path, setting: naming.name(path), message: `${naming.subject(path)} ${sentence}` });

  const { minLength, maxLength } = options.password;
  if (maxLength < minLength) {
    problem(
      "password.maxLength",
      `(${maxLength}) must be at least ${naming.name("password.minLength")} (${minLength}).`,
    );
  }
  if (options.refreshIdleSeconds > options.refreshAbsoluteSeconds) {
    const { refreshIdleSeconds: idle, refreshAbsoluteSeconds: absolute } = options;
    problem("refreshIdleSeconds", `(${idle}) must not exceed ${naming.name("refreshAbsoluteSeconds")} (${absolute}).`);
  }
  const { url, secret } = options.webhook;
  if (url !== undefined && secret === undefined) {
    problem("webhook.secret", `must be set when ${naming.name("webhook.url")} is: webhooks are always signed.`);
  }
  if (secret !== undefined && url === undefined) {
    problem("webhook.url", `must be set when ${naming.name("webhook.secret")} is (or remove the secret).`);
  }
  const { retryBaseSeconds, retryMaxSeconds } = options.outbox;
  if (retryMaxSeconds < retryBaseSeconds) {
    problem(
      "outbox.retryMaxSeconds",
      `(${retryMaxSeconds}) must be at least ${naming.name("outbox.retryBaseSeconds")} (${retryBaseSeconds}).`,
    );
  }
  const { memoryCost, timeCost } = options.argon2;
  const minimumMemory = owaspMinimumMemory(timeCost);
  if (memoryCost < minimumMemory) {
    problem(
      "argon2.memoryCost",
      `(${memoryCost} KiB) is weaker than OWASP's minimum for ${naming.name("argon2.timeCost")} ${timeCost} ` +
        `(${minimumMemory} KiB). Raise it, or raise ${naming.name("argon2.timeCost")} (5 passes need 7168 KiB).`,
    );
  }
  return problems;
}
