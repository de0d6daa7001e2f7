import { createHash } from "node:crypto";
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from "@simplewebauthn/server";
import type { Clock } from "../clock.ts";
import { AuthError } from "../errors.ts";
import type { PasskeyRecord, Store, TransactionOps, UserRecord } from "../store/store.ts";
import type { KeyKind } from "./amr.ts";

type WebAuthnModule = typeof import("@simplewebauthn/server");
let loading: Promise<WebAuthnModule> | undefined;
/**
 * @simplewebauthn/server, loaded on the first passkey ceremony: it adds about 4.5 MB to the heap,
 * which a server whose users have no passkeys should not carry (a bigger heap makes every full
 * collection longer).
 */
const webauthn = (): Promise<WebAuthnModule> => {
  loading ??= import("@simplewebauthn/server");
  return loading;
};

/** Who the passkeys are for: the RP id is the host of PUBLIC_URL, the origin its origin. */
export interface RelyingParty {
  id: string;
  origin: string;
  name: string;
}

export function relyingPartyOf(publicUrl: string, name: string): RelyingParty {
  const url = new URL(publicUrl);
  return { id: url.hostname, origin: url.origin, name };
}

/** How long a ceremony may take once its options were handed out. */
const CHALLENGE_SECONDS = 300;
const MAX_PASSKEY_NAME = 64;

export type PasskeyPurpose = "register" | "login" | "mfa";
/** What a browser passes to `navigator.credentials.get` (`optionsJSON` of @simplewebauthn/browser). */
export type PasskeyLoginOptions = PublicKeyCredentialRequestOptionsJSON;

const NOT_VERIFIED = "The passkey could not be verified.";
const STALE_CHALLENGE = "This passkey request expired or was already answered. Start again.";

const hashChallenge = (challenge: string) => createHash("sha256").update(challenge, "utf8").digest("base64url");

/** The challenge a WebAuthn response answers, read from its clientDataJSON (verified later by the library). */
function challengeOf(response: unknown): string | null {
  const data = (response as { response?: { clientDataJSON?: unknown } } | null)?.response?.clientDataJSON;
  if (typeof data !== "string" || data.length > 4096) return null;
  try {
    const challenge = (JSON.parse(Buffer.from(data, "base64url").toString("utf8")) as { challenge?: unknown })
      .challenge;
    return typeof challenge === "string" && challenge.length > 0 && challenge.length <= 256 ? challenge : null;
  } catch {
    return null;
  }
}

/** The WebAuthn user handle of a user: their id's bytes (no personal data). */
const userHandleOf = (userId: string) => Buffer.from(userId, "utf8");

export interface PasskeyServiceParts {
  store: Store;
  clock: Clock;
  rp: RelyingParty;
}

/**
 * Passkey ceremonies with @simplewebauthn/server. Challenges are random, stored hashed for 5
 * minutes and single use; user verification is always required; counters and backup flags
 * are stored after every use, and a counter that goes backwards fails verification.
 */
export class PasskeyService {
  readonly #p: PasskeyServiceParts;

  constructor(parts: PasskeyServiceParts) {
    this.#p = parts;
  }

  get relyingParty(): RelyingParty {
    return this.#p.rp;
  }

  async registrationOptions(user: UserRecord): Promise<PublicKeyCredentialCreationOptionsJSON> {
    const existing = await this.#p.store.listPasskeys(user.id);
    const options = await (await webauthn()).generateRegistrationOptions({
      rpName: this.#p.rp.name,
      rpID: this.#p.rp.id,
      userName: user.username,
      userID: userHandleOf(user.id),
      attestationType: "none",
      excludeCredentials: existing.map((p) => ({ id: p.id, transports: p.transports })),
      // Discoverable, so it can log in without a username; verified, so it is two factors in one.
      authenticatorSelection: { residentKey: "required", userVerification: "required" },
    });
    await this.#remember(options.challenge, "register", user.id);
    return options;
  }

  async verifyRegistration(
    userId: string,
    response: unknown,
    name: string | undefined,
    afterRegister: (tx: TransactionOps) => Promise<void>,
  ): Promise<PasskeyRecord> {
    const challenge = await this.#takeChallenge(response, "register", userId);
    const { verifyRegistrationResponse } = await webauthn();
    let verification: Awaited<ReturnType<typeof verifyRegistrationResponse>>;
    try {
      verification = await verifyRegistrationResponse({
        response: response as RegistrationResponseJSON,
        expectedChallenge: challenge,
        expectedOrigin: this.#p.rp.origin,
        expectedRPID: this.#p.rp.id,
        requireUserVerification: true,
      });
    } catch (cause) {
      throw new AuthError("invalid_credentials", NOT_VERIFIED, { cause });
    }
    if (!verification.verified) throw new AuthError("invalid_credentials", NOT_VERIFIED);
    const info = verification.registrationInfo;
    const now = this.#p.clock.now();
    const passkey: PasskeyRecord = {
      id: info.credential.id,
      userId,
      publicKey: Buffer.from(info.credential.publicKey).toString("base64url"),
      counter: info.credential.counter,
      transports: info.credential.transports ?? [],
      deviceType: info.credentialDeviceType,
      backedUp: info.credentialBackedUp,
      name: cleanName(name) ?? "Passkey",
      createdAt: now,
      lastUsedAt: null,
    };
    await this.#p.store.transaction(async (tx) => {
      if (!(await tx.insertPasskey(passkey))) {
        throw new AuthError("invalid_request", "This passkey is already registered.");
      }
      await afterRegister(tx);
    });
    return passkey;
  }

  /** Options for a login: any discoverable passkey (userId null), or one of the user's (second factor). */
  async authenticationOptions(
    purpose: "login" | "mfa",
    userId: string | null,
  ): Promise<PublicKeyCredentialRequestOptionsJSON> {
    const allow = userId === null ? [] : await this.#p.store.listPasskeys(userId);
    const options = await (await webauthn()).generateAuthenticationOptions({
      rpID: this.#p.rp.id,
      userVerification: "required",
      allowCredentials: allow.map((p) => ({ id: p.id, transports: p.transports })),
    });
    await this.#remember(options.challenge, purpose, userId);
    return options;
  }

  /** Verifies a login assertion; answers whose passkey it was and what kind of key. */
  async verifyAuthentication(
    response: unknown,
    purpose: "login" | "mfa",
    userId: string | null,
  ): Promise<{ userId: string; keyKind: KeyKind }> {
    const challenge = await this.#takeChallenge(response, purpose, userId);
    const credentialId = (response as { id?: unknown }).id;
    if (typeof credentialId !== "string" || credentialId.length === 0 || credentialId.length > 1024) {
      throw new AuthError("invalid_request", "The passkey response has no credential id.");
    }
    const passkey = await this.#p.store.findPasskey(credentialId);
    if (!passkey || (userId !== null && passkey.userId !== userId)) {
      throw new AuthError("invalid_credentials", NOT_VERIFIED);
    }
    // A discoverable credential names its user: it must be the one the passkey is stored for.
    const handle = (response as { response?: { userHandle?: unknown } }).response?.userHandle;
    if (handle !== undefined && handle !== userHandleOf(passkey.userId).toString("base64url")) {
      throw new AuthError("invalid_credentials", NOT_VERIFIED);
    }
    const { verifyAuthenticationResponse } = await webauthn();
    let verification: Awaited<ReturnType<typeof verifyAuthenticationResponse>>;
    try {
      verification = await verifyAuthenticationResponse({
        response: response as AuthenticationResponseJSON,
        expectedChallenge: challenge,
        expectedOrigin: this.#p.rp.origin,
        expectedRPID: this.#p.rp.id,
        credential: {
          id: passkey.id,
          publicKey: Buffer.from(passkey.publicKey, "base64url"),
          counter: passkey.counter,
          transports: passkey.transports,
        },
        requireUserVerification: true,
      });
    } catch (cause) {
      // Includes a signature counter that went backwards: a sign of a cloned authenticator.
      throw new AuthError("invalid_credentials", NOT_VERIFIED, { cause });
    }
    if (!verification.verified) throw new AuthError("invalid_credentials", NOT_VERIFIED);
    const info = verification.authenticationInfo;
    await this.#p.store.recordPasskeyUse(passkey.id, info.newCounter, info.credentialBackedUp, this.#p.clock.now());
    const synced = info.credentialBackedUp || info.credentialDeviceType === "multiDevice";
    return { userId: passkey.userId, keyKind: synced ? "swk" : "hwk" };
  }

  list(userId: string): Promise<PasskeyRecord[]> {
    return this.#p.store.listPasskeys(userId);
  }

  async rename(userId: string, id: string, name: string): Promise<PasskeyRecord> {
    const clean = cleanName(name);
    if (clean === undefined) throw new AuthError("invalid_request", "Give the passkey a name of 1 to 64 characters.");
    if (!(await this.#p.store.renamePasskey(userId, id, clean))) throw notFound();
    const passkey = await this.#p.store.findPasskey(id);
    if (!passkey) throw notFound();
    return passkey;
  }

  async remove(userId: string, id: string, afterRemove: (tx: TransactionOps) => Promise<void>): Promise<void> {
    await this.#p.store.transaction(async (tx) => {
      if (!(await tx.deletePasskey(userId, id))) throw notFound();
      await afterRemove(tx);
    });
  }

  async #remember(challenge: string, purpose: PasskeyPurpose, userId: string | null): Promise<void> {
    const now = this.#p.clock.now();
    await this.#p.store.insertWebAuthnChallenge({
      hash: hashChallenge(challenge),
      purpose,
      userId,
      createdAt: now,
      expiresAt: now + CHALLENGE_SECONDS * 1000,
    });
  }

  /** Takes the challenge the response answers, once; it must be ours, unexpired, for this purpose and user. */
  async #takeChallenge(response: unknown, purpose: PasskeyPurpose, userId: string | null): Promise<string> {
    const challenge = challengeOf(response);
    if (challenge === null) throw new AuthError("invalid_request", "The passkey response is malformed.");
    const row = await this.#p.store.consumeWebAuthnChallenge(hashChallenge(challenge), this.#p.clock.now());
    if (!row || row.purpose !== purpose || row.userId !== userId) {
      throw new AuthError("invalid_credentials", STALE_CHALLENGE);
    }
    return challenge;
  }
}

const notFound = () =>
  new AuthError("not_found", "No such passkey among yours. List them with GET /auth/webauthn/credentials.");

/** A label as the user typed it, trimmed; undefined when empty or too long. */
function cleanName(name: string | undefined): string | undefined {
  const trimmed = name?.trim();
  if (!trimmed || [...trimmed].length > MAX_PASSKEY_NAME) return undefined;
  return trimmed;
}
