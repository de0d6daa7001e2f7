/**
 * Resolves once `condition` holds, checking every 20 ms; fails after `timeoutMs` (generous:
 * these waits are for background work on a shared, slow machine, not timing assertions).
 */
export async function eventually(condition: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms: ${condition.toString()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
