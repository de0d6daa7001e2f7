import { describeValue, type Naming, type Problem } from "./naming.ts";
import { defaultOf, isSetting, type ResolvedOf, type Setting, type SettingTree } from "./setting.ts";

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** Checks one value given for `setting`; returns the value to keep or a problem. */
export function checkValue(
  setting: Setting<unknown>,
  path: string,
  value: unknown,
  naming: Naming,
): { ok: true; value: unknown } | { ok: false; problem: Problem } {
  const subject = naming.subject(path);
  const fail = (message: string) => ({ ok: false as const, problem: { path, setting: naming.name(path), message } });
  const parsed = setting.kind.schema.safeParse(value);
  if (!parsed.success) {
    const got = setting.sensitive ? "" : ` (got ${describeValue(value)})`;
    return fail(`${subject} must be ${setting.kind.expected}${got}.`);
  }
  const refused = setting.kind.check?.(parsed.data, subject);
  return refused === undefined ? { ok: true, value: parsed.data } : fail(refused);
}

/**
 * Walks `tree` and `input` together: unknown keys are problems, each given value is checked
 * against its setting, every missing one gets its default. Groups and arrays of the result are
 * frozen; values such as a clock are kept as given. A setting with a problem gets its default,
 * so a caller that lists every problem (`doctor`) still has a whole config to look at.
 */
export function resolveTree<S extends SettingTree>(
  tree: S,
  input: unknown,
  naming: Naming,
  prefix = "",
  problems: Problem[] = [],
): { value: ResolvedOf<S>; problems: Problem[] } {
  let given: Record<string, unknown> = {};
  if (isPlainObject(input)) given = input;
  else if (input !== undefined) {
    const path = prefix.slice(0, -1);
    const subject = path === "" ? "Gatehouse options" : naming.subject(path);
    problems.push({
      path,
      setting: path === "" ? "options" : naming.name(path),
      message: `${subject} must be an object.`,
    });
  }

  for (const key of Object.keys(given)) {
    if (key in tree) continue;
    const path = `${prefix}${key}`;
    const known = Object.keys(tree).join(", ");
    problems.push({ path, setting: path, message: `Unknown Gatehouse option "${path}" (known here: ${known}).` });
  }

  const out: Record<string, unknown> = {};
  for (const [key, node] of Object.entries(tree)) {
    const path = `${prefix}${key}`;
    if (!isSetting(node)) {
      out[key] = resolveTree(node, given[key], naming, `${path}.`, problems).value;
      continue;
    }
    const value = given[key];
    let resolved = defaultOf(node);
    if (value !== undefined) {
      const checked = checkValue(node, path, value, naming);
      if (checked.ok) resolved = checked.value;
      else problems.push(checked.problem);
    }
    out[key] = Array.isArray(resolved) ? Object.freeze([...resolved]) : resolved;
  }
  return { value: Object.freeze(out) as ResolvedOf<S>, problems };
}
