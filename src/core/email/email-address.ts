import { AuthError } from "../errors.ts";

/** RFC 5321 §4.5.3.1.3 bounds a forward path to 256 octets, so an address to 254. */
export const MAX_EMAIL_LENGTH = 254;
const MAX_LOCAL_PART = 64;

/**
 * The shape check of the WHATWG HTML "valid e-mail address" (what <input type=email> accepts),
 * widened to non-ASCII letters (RFC 6531): a local part without spaces, quotes, brackets or
 * control characters, `@`, then dot-separated labels. Deliverability is what the verification
 * link proves; this only turns away what cannot be an address.
 */
const LOCAL = /^[^\s"(),:;<>@[\\\]\p{Cc}\p{Cf}]+$/u;
const LABEL = /^[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?$/u;

/**
 * Trims and checks an address; answers it as given (display form).
 * @throws AuthError("invalid_request") naming the rule it breaks.
 */
export function validateEmail(raw: string): string {
  const email = raw.trim().normalize("NFC");
  const refuse = (why: string) => new AuthError("invalid_request", `Invalid email address: ${why}.`);
  if (email.length === 0) throw refuse("it is empty");
  if (email.length > MAX_EMAIL_LENGTH) throw refuse(`it is longer than ${MAX_EMAIL_LENGTH} characters`);
  const at = email.lastIndexOf("@");
  const local = email.slice(0, at);
  const domain = email.slice(at + 1);
  if (
    at <= 0 ||
    local.length > MAX_LOCAL_PART ||
    !LOCAL.test(local) ||
    local.startsWith(".") ||
    local.endsWith(".") ||
    local.includes("..")
  ) {
    throw refuse("it must look like name@example.com");
  }
  const labels = domain.split(".");
  if (labels.length < 2 || !labels.every((label) => LABEL.test(label))) {
    throw refuse("the part after @ must be a domain such as example.com");
  }
  return email;
}

/**
 * The key addresses are unique by: the whole address lowercased. Case-insensitive local parts
 * are what every large provider does in practice, and the contract asks for case-insensitive
 * uniqueness; dots and `+tags` are left alone because providers differ on them.
 */
export function emailKey(email: string): string {
  return email.trim().normalize("NFC").toLowerCase();
}
