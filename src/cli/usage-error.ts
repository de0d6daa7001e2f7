/** A mistake in how the CLI was called (missing input, bad flag value): exit code 2, not 1. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}
