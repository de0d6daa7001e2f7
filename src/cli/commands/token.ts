import type { Command } from "commander";
import { AuthError, isAuthError } from "../../core/errors.ts";
import { withGatehouse } from "../connect.ts";
import type { GlobalOptions } from "../environment.ts";
import { printError, printJson, printLines, readStdin } from "../output.ts";

/** Header and claims of a compact JWS, unverified. The signature is never shown. */
export function decodeJwt(token: string): { header: Record<string, unknown>; claims: Record<string, unknown> } {
  const parts = token.trim().split(".");
  if (parts.length !== 3) {
    throw new AuthError("invalid_token", `Not a JWT: expected 3 dot-separated parts, got ${parts.length}.`);
  }
  const segment = (text: string, name: string): Record<string, unknown> => {
    try {
      const value: unknown = JSON.parse(Buffer.from(text, "base64url").toString("utf8"));
      if (value !== null && typeof value === "object" && !Array.isArray(value)) return value as Record<string, unknown>;
    } catch {
      // reported below
    }
    throw new AuthError("invalid_token", `Not a JWT: the ${name} is not base64url-encoded JSON object.`);
  };
  return { header: segment(parts[0] ?? "", "header"), claims: segment(parts[1] ?? "", "payload") };
}

/** `-` reads the token from stdin, which keeps it out of shell history and `ps`. */
async function tokenArgument(token: string): Promise<string> {
  return token === "-" ? (await readStdin()).trim() : token;
}

/** Claims with their time fields also shown as dates, for people. */
function humanClaims(claims: Record<string, unknown>): string[] {
  return Object.entries(claims).map(([name, value]) => {
    const isTime = ["exp", "iat", "nbf"].includes(name) && typeof value === "number";
    const date = isTime ? `  (${new Date(value * 1000).toISOString()})` : "";
    return `  ${name}: ${JSON.stringify(value)}${date}`;
  });
}

export function registerTokenCommand(program: Command): void {
  const token = program.command("token").description("inspect access tokens");

  token
    .command("decode")
    .description("show a token's header and claims WITHOUT verifying it")
    .argument("<token>", "the access token, or - to read it from stdin")
    .option("--json", "print JSON")
    .action(async (raw: string, options: { json?: boolean }) => {
      const decoded = decodeJwt(await tokenArgument(raw));
      if (options.json) return printJson(decoded);
      printLines("header:", ...humanClaims(decoded.header), "claims (not verified):", ...humanClaims(decoded.claims));
    });

  token
    .command("verify")
    .description("verify a token against the configured database's keys (exit 1 when invalid)")
    .argument("<token>", "the access token, or - to read it from stdin")
    .option("--check-session", "also require its session to be live (not logged out or revoked)")
    .option("--json", "print JSON")
    .action(async (raw: string, options: { json?: boolean; checkSession?: boolean }, command: Command) => {
      const text = await tokenArgument(raw);
      const result = await withGatehouse(command.optsWithGlobals<GlobalOptions>(), async (auth) => {
        try {
          const context = await auth.service.authenticate(text, options.checkSession === true);
          return { valid: true as const, claims: context.claims };
        } catch (error) {
          if (isAuthError(error) && error.code === "invalid_token") {
            return { valid: false as const, reason: error.message };
          }
          throw error;
        }
      });
      if (options.json) printJson(result);
      if (!result.valid) {
        if (!options.json) printError(`invalid token: ${result.reason}`);
        process.exitCode = 1;
        return;
      }
      if (!options.json) printLines("valid", ...humanClaims(result.claims));
    });
}
