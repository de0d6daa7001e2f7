import { AuthError } from "../core/errors.ts";

/**
 * Extracts the token from `Authorization: Bearer <token>`. Returns undefined when no
 * Authorization header was sent; throws invalid_token for any other scheme or shape.
 */
export function readBearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const space = header.indexOf(" ");
  if (space === -1 || header.slice(0, space).toLowerCase() !== "bearer") {
    throw new AuthError("invalid_token", "Send the access token as: Authorization: Bearer <token>.", { tokenPresented: true });
  }
  const token = header.slice(space + 1).trim();
  // Only the shape of the header is checked here; the verifier's strict base64url rules do the rest.
  if (token.length === 0 || token.includes(" ")) {
    throw new AuthError("invalid_token", "The bearer token is malformed.", { tokenPresented: true });
  }
  return token;
}

export function missingBearer(): AuthError {
  return new AuthError("invalid_token", "This route needs an access token: Authorization: Bearer <token>.", { tokenPresented: false });
}
