import type { Clock } from "../clock.ts";
import { AuthError } from "../errors.ts";
import type { Store, TransactionOps } from "../store/store.ts";
import { generateMfaToken, hashMfaToken, isWellFormedMfaToken } from "./mfa-token.ts";
import { findRecoveryCode, generateRecoveryCodes, hashRecoveryCode } from "./recovery-codes.ts";
import { AMR, passkeyAmr } from "./amr.ts";
import type { PasskeyService } from "./passkeys.ts";
import type { SecretBox } from "../crypto/secret-box.ts";
import { totpSecretContext } from "../crypto/secret-contexts.ts";
import { generateTotpSecret, matchTotpStep, totpUri } from "./totp.ts";

/** How long the second login step may take. */
export const MFA_TOKEN_SECONDS = 300;
/** Codes one mfa_token may be used to check. */
export const MFA_TOKEN_MAX_ATTEMPTS = 5;

/** The second login step's proof: a TOTP code or a recovery code. */
export type SecondFactorProof = { code: string } | { recoveryCode: string } | { webauthn: unknown };

/** The answer to a right password when the account has a second factor. */
export interface MfaChallenge {
  mfaRequired: true;
  mfaToken: string;
  methods: string[];
}

export interface TotpEnrolment {
  secret: string;
  otpauthUri: string;
}

export interface MfaServiceParts {
  store: Store;
  clock: Clock;
  /** Seals TOTP secrets (AES-256-GCM) under the key-encryption key. */
  sealer: SecretBox;
  /** The issuer an authenticator app shows next to the account. */
  totpIssuer: string;
  /** Passkeys as a second factor; without it, only TOTP and recovery codes. */
  passkeys?: PasskeyService;
}

const WRONG_CODE = "The code is wrong, expired or already used.";
const DEAD_MFA_TOKEN = "This login step has expired, was used, or ran out of tries. Log in with your password again.";

/**
 * Second factors: TOTP enrolment and removal, recovery codes, and the token that links the
 * two login steps. Password checks, sessions and throttling stay with the AuthService.
 */
export class MfaService {
  readonly #p: MfaServiceParts;

  constructor(parts: MfaServiceParts) {
    this.#p = parts;
  }

  /** Starts (or restarts) TOTP enrolment: a new pending secret; not active until confirmed. */
  async enrolTotp(userId: string, username: string): Promise<TotpEnrolment> {
    const secret = generateTotpSecret();
    const stored = await this.#p.store.putPendingTotpFactor({
      userId,
      sealedSecret: this.#p.sealer.seal(secret, totpSecretContext(userId)),
      createdAt: this.#p.clock.now(),
      confirmedAt: null,
      lastUsedStep: null,
    });
    if (!stored) {
      throw new AuthError("invalid_request", "TOTP is already on for this account. Remove it first to enrol anew.");
    }
    return { secret, otpauthUri: totpUri(secret, this.#p.totpIssuer, username) };
  }

  /**
   * Turns a pending factor on with a first code from the app, and issues fresh recovery
   * codes (shown once). `afterConfirm` runs in the same transaction (ending other sessions).
   */
  async confirmTotp(
    userId: string,
    code: string,
    afterConfirm: (tx: TransactionOps) => Promise<void>,
  ): Promise<string[]> {
    const factor = await this.#p.store.findTotpFactor(userId);
    if (!factor || factor.confirmedAt !== null) {
      throw new AuthError("invalid_request", "There is no TOTP enrolment to confirm. Start with POST /auth/mfa/totp.");
    }
    const now = this.#p.clock.now();
    const step = matchTotpStep(this.#openSecret(userId, factor.sealedSecret), code, now);
    if (step === null) throw new AuthError("invalid_credentials", WRONG_CODE);
    const codes = generateRecoveryCodes();
    await this.#p.store.transaction(async (tx) => {
      if (!(await tx.confirmTotpFactor(userId, now, step))) {
        throw new AuthError("invalid_request", "This TOTP enrolment was already confirmed.");
      }
      await tx.replaceRecoveryCodes(userId, codes.map(hashRecoveryCode), now);
      await afterConfirm(tx);
    });
    return codes;
  }

  /** Removes TOTP and the recovery codes; `afterRemove` runs in the same transaction. */
  async disableTotp(userId: string, afterRemove: (tx: TransactionOps) => Promise<void>): Promise<void> {
    await this.#p.store.transaction(async (tx) => {
      const removed = await tx.deleteTotpFactor(userId);
      await tx.deleteRecoveryCodes(userId);
      if (!removed) throw new AuthError("not_found", "TOTP is not on for this account.");
      await afterRemove(tx);
    });
  }

  /** New recovery codes (the old ones stop working). Needs TOTP on. */
  async regenerateRecoveryCodes(userId: string): Promise<string[]> {
    if (!(await this.#hasConfirmedTotp(userId))) {
      throw new AuthError("invalid_request", "Recovery codes come with a second factor: turn TOTP on first.");
    }
    const codes = generateRecoveryCodes();
    await this.#p.store.transaction((tx) =>
      tx.replaceRecoveryCodes(userId, codes.map(hashRecoveryCode), this.#p.clock.now()),
    );
    return codes;
  }

  /** The second-step methods the account offers; empty when it has no confirmed factor. */
  async methodsFor(userId: string): Promise<string[]> {
    const methods = (await this.#hasConfirmedTotp(userId)) ? ["totp", "recovery_code"] : [];
    if (this.#p.passkeys && (await this.#p.store.listPasskeys(userId)).length > 0) methods.push("webauthn");
    return methods;
  }

  /** WebAuthn options for the second step: the user's passkeys. Takes none of the token's tries. */
  async passkeyOptionsFor(mfaToken: unknown) {
    const passkeys = this.#p.passkeys;
    if (!passkeys) throw new AuthError("not_found", "Passkeys are not enabled on this server.");
    if (!isWellFormedMfaToken(mfaToken)) throw new AuthError("invalid_grant", DEAD_MFA_TOKEN);
    const now = this.#p.clock.now();
    const row = await this.#p.store.findLiveMfaToken(hashMfaToken(mfaToken), now, MFA_TOKEN_MAX_ATTEMPTS);
    if (!row) throw new AuthError("invalid_grant", DEAD_MFA_TOKEN);
    return passkeys.authenticationOptions("mfa", row.userId);
  }

  /** After a right password: the challenge, or null when the account has no second factor. */
  async challengeFor(userId: string): Promise<MfaChallenge | null> {
    const methods = await this.methodsFor(userId);
    if (methods.length === 0) return null;
    const mfaToken = generateMfaToken();
    const now = this.#p.clock.now();
    await this.#p.store.insertMfaToken({
      hash: hashMfaToken(mfaToken),
      userId,
      createdAt: now,
      expiresAt: now + MFA_TOKEN_SECONDS * 1000,
      attempts: 0,
      usedAt: null,
    });
    return { mfaRequired: true, mfaToken, methods };
  }

  /**
   * Takes one of the token's tries (atomically: parallel requests never get more than
   * allowed) and answers whose login it continues. A dead token is invalid_grant.
   */
  async takeAttempt(mfaToken: unknown): Promise<string> {
    if (!isWellFormedMfaToken(mfaToken)) throw new AuthError("invalid_grant", DEAD_MFA_TOKEN);
    const now = this.#p.clock.now();
    const row = await this.#p.store.takeMfaTokenAttempt(hashMfaToken(mfaToken), now, MFA_TOKEN_MAX_ATTEMPTS);
    if (!row) throw new AuthError("invalid_grant", DEAD_MFA_TOKEN);
    return row.userId;
  }

  /** Ends the token once the login it continued has succeeded; a second success loses. */
  async consume(mfaToken: string): Promise<void> {
    if (!(await this.#p.store.consumeMfaToken(hashMfaToken(mfaToken), this.#p.clock.now()))) {
      throw new AuthError("invalid_grant", DEAD_MFA_TOKEN);
    }
  }

  /**
   * Checks a second-factor proof and marks it used (a code's time step, a recovery code), so
   * it never works twice. Answers the amr it earns, or null when it is wrong or used.
   */
  async verify(userId: string, proof: SecondFactorProof): Promise<readonly string[] | null> {
    const now = this.#p.clock.now();
    if ("webauthn" in proof) {
      if (!this.#p.passkeys) return null;
      try {
        const { keyKind } = await this.#p.passkeys.verifyAuthentication(proof.webauthn, "mfa", userId);
        return passkeyAmr(keyKind, true);
      } catch (error) {
        if (error instanceof AuthError && error.code === "invalid_credentials") return null;
        throw error;
      }
    }
    if ("recoveryCode" in proof) {
      if (!(await this.#hasConfirmedTotp(userId))) return null;
      const unused = await this.#p.store.listUnusedRecoveryCodes(userId);
      const hash = findRecoveryCode(
        proof.recoveryCode,
        unused.map((c) => c.hash),
      );
      if (hash === undefined || !(await this.#p.store.useRecoveryCode(userId, hash, now))) return null;
      return AMR.passwordAndRecoveryCode;
    }
    const factor = await this.#p.store.findTotpFactor(userId);
    if (!factor || factor.confirmedAt === null) return null;
    const step = matchTotpStep(this.#openSecret(userId, factor.sealedSecret), proof.code, now);
    // The step is recorded in the same statement that checks it is new: a replay in the same
    // step (or a code of an earlier one) is refused even when requests race.
    if (step === null || !(await this.#p.store.useTotpStep(userId, step))) return null;
    return AMR.passwordAndTotp;
  }

  /** Removes every factor of a user (administrator reset); answers whether there was one. */
  async resetAll(
    userId: string,
    afterReset: (tx: TransactionOps, removed: boolean) => Promise<void>,
  ): Promise<boolean> {
    return this.#p.store.transaction(async (tx) => {
      const removedTotp = await tx.deleteTotpFactor(userId);
      await tx.deleteRecoveryCodes(userId);
      const removedPasskeys = await tx.deletePasskeys(userId);
      const removed = removedTotp || removedPasskeys > 0;
      await afterReset(tx, removed);
      return removed;
    });
  }

  async #hasConfirmedTotp(userId: string): Promise<boolean> {
    const factor = await this.#p.store.findTotpFactor(userId);
    return factor !== null && factor.confirmedAt !== null;
  }

  #openSecret(userId: string, sealed: string): string {
    return this.#p.sealer.open(sealed, totpSecretContext(userId));
  }
}
