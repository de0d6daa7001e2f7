/**
 * The demo page served at `/`: register, log in, call a protected API, list and end
 * sessions, log out. Everything goes through `gatehouse/client`; the page never sees the
 * refresh token and never stores the access token.
 */
import {
  createGatehouseClient,
  type GatehouseSessionInfo,
  type GatehouseState,
  isGatehouseClientError,
} from "../src/client/index.ts";
import { activityItem } from "./activity.ts";
import { element, formatCountdown, formatTime, hideError, showError, summariseUserAgent, withBusy } from "./dom.ts";
import { describeError } from "./messages.ts";
import { renderQrCode } from "./qr.ts";
import * as webauthn from "@simplewebauthn/browser";

const client = createGatehouseClient();
const LOOKS_LIKE_EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
/** The token of a `#reset=` link, held in memory once the fragment is cleared. */
let resetToken: string | undefined;

const ui = {
  status: element("status"),
  signedOutView: element("signed-out-view"),
  signedInView: element("signed-in-view"),
  loginForm: element<HTMLFormElement>("login-form"),
  loginUsername: element<HTMLInputElement>("login-username"),
  loginPassword: element<HTMLInputElement>("login-password"),
  loginError: element("login-error"),
  mfaForm: element<HTMLFormElement>("mfa-form"),
  mfaCode: element<HTMLInputElement>("mfa-code"),
  mfaUseRecovery: element<HTMLInputElement>("mfa-use-recovery"),
  mfaError: element("mfa-error"),
  passkeyLogin: element<HTMLButtonElement>("passkey-login"),
  mfaPasskey: element<HTMLButtonElement>("mfa-passkey"),
  passkeyList: element("passkey-list"),
  passkeyAdd: element<HTMLButtonElement>("passkey-add"),
  passkeyError: element("passkey-error"),
  totpStart: element<HTMLButtonElement>("totp-start"),
  totpEnrol: element("totp-enrol"),
  totpQr: element("totp-qr"),
  totpSecret: element("totp-secret"),
  totpConfirmForm: element<HTMLFormElement>("totp-confirm-form"),
  totpCode: element<HTMLInputElement>("totp-code"),
  recoveryBox: element("recovery-codes-box"),
  recoveryCodes: element("recovery-codes"),
  totpDisableForm: element<HTMLFormElement>("totp-disable-form"),
  totpDisablePassword: element<HTMLInputElement>("totp-disable-password"),
  totpError: element("totp-error"),
  registerForm: element<HTMLFormElement>("register-form"),
  registerUsername: element<HTMLInputElement>("register-username"),
  registerPassword: element<HTMLInputElement>("register-password"),
  registerEmail: element<HTMLInputElement>("register-email"),
  registerError: element("register-error"),
  forgotForm: element<HTMLFormElement>("forgot-form"),
  forgotEmail: element<HTMLInputElement>("forgot-email"),
  forgotError: element("forgot-error"),
  resetForm: element<HTMLFormElement>("reset-form"),
  resetPassword: element<HTMLInputElement>("reset-password"),
  resetError: element("reset-error"),
  email: element("email"),
  heading: element("signed-in-heading"),
  username: element("username"),
  userId: element("user-id"),
  sessionId: element("session-id"),
  countdown: element("countdown"),
  identityError: element("identity-error"),
  refreshNow: element<HTMLButtonElement>("refresh-now"),
  logout: element<HTMLButtonElement>("logout"),
  logoutAll: element<HTMLButtonElement>("logout-all"),
  callApi: element<HTMLButtonElement>("call-api"),
  apiResult: element("api-result"),
  apiError: element("api-error"),
  passwordForm: element<HTMLFormElement>("password-form"),
  currentPassword: element<HTMLInputElement>("current-password"),
  newPassword: element<HTMLInputElement>("new-password"),
  passwordError: element("password-error"),
  reloadSessions: element<HTMLButtonElement>("reload-sessions"),
  sessions: element("sessions"),
  sessionsError: element("sessions-error"),
  reloadActivity: element<HTMLButtonElement>("reload-activity"),
  activity: element("activity"),
  activityError: element("activity-error"),
};

/** How many recent events the page shows. */
const RECENT_ACTIVITY = 10;

/** Set while this tab is logging out, so the status says who ended the session. */
let signingOutHere = false;
let shownStatus: GatehouseState["status"] | "unknown" = "unknown";

function announce(message: string): void {
  ui.status.textContent = message;
}

function render(state: GatehouseState): void {
  const previous = shownStatus;
  shownStatus = state.status;
  document.body.dataset["authState"] = state.status;
  ui.signedInView.hidden = state.status !== "signed-in";
  ui.signedOutView.hidden = state.status !== "signed-out";
  updateCountdown();
  if (state.status === previous) return;
  if (state.status === "signed-in") {
    void loadIdentity();
    void loadSessions();
    void showPasskeys().catch((error: unknown) => showError(ui.passkeyError, describeError(error)));
    void loadActivity();
  } else {
    clearSignedInData();
    if (previous === "signed-in" && !signingOutHere)
      announce("You were signed out: the session ended in another tab or on the server.");
  }
}

/** A button's action: busy while it runs, its error box cleared first and filled if it fails. */
function runAction(button: HTMLButtonElement, errorBox: HTMLElement, work: () => Promise<void>): Promise<void> {
  return withBusy(button, async () => {
    hideError(errorBox);
    try {
      await work();
    } catch (error) {
      showError(errorBox, describeError(error));
    }
  });
}

function clearSignedInData(): void {
  for (const node of [ui.username, ui.userId, ui.sessionId, ui.email]) node.textContent = "…";
  ui.sessions.replaceChildren();
  ui.activity.replaceChildren();
  ui.apiResult.textContent = "";
  ui.apiResult.hidden = true;
  for (const node of [ui.identityError, ui.apiError, ui.sessionsError, ui.passwordError, ui.activityError]) {
    hideError(node);
  }
}

function updateCountdown(): void {
  const expiresAt = client.expiresAt;
  ui.countdown.textContent = expiresAt === undefined ? "–" : formatCountdown(expiresAt - Date.now());
}

async function loadIdentity(): Promise<void> {
  try {
    const me = await client.me();
    ui.username.textContent = me.user.username;
    ui.userId.textContent = me.user.id;
    ui.sessionId.textContent = me.session_id;
    const email = me.user.email ?? null;
    ui.email.textContent =
      email === null ? "none" : `${email} (${me.user.email_verified ? "verified" : "not verified"})`;
    hideError(ui.identityError);
  } catch (error) {
    showError(ui.identityError, describeError(error));
  }
}

async function loadSessions(): Promise<void> {
  try {
    const sessions = await client.sessions();
    ui.sessions.replaceChildren(...sessions.map(sessionRow));
    hideError(ui.sessionsError);
  } catch (error) {
    showError(ui.sessionsError, describeError(error));
  }
}

async function loadActivity(): Promise<void> {
  try {
    const page = await client.activity({ limit: RECENT_ACTIVITY });
    ui.activity.replaceChildren(...page.events.map(activityItem));
    hideError(ui.activityError);
  } catch (error) {
    showError(ui.activityError, describeError(error));
  }
}

function sessionRow(session: GatehouseSessionInfo): HTMLTableRowElement {
  const row = document.createElement("tr");
  row.dataset["testid"] = "session-row";
  row.dataset["sessionId"] = session.id;
  const device = document.createElement("td");
  device.textContent = summariseUserAgent(session.user_agent);
  if (session.current) {
    const badge = document.createElement("span");
    badge.className = "badge";
    badge.textContent = "this tab";
    device.append(" ", badge);
  }
  const cells = [
    session.ip ?? "unknown",
    formatTime(session.created_at),
    formatTime(session.last_used_at),
    formatTime(session.expires_at),
  ].map((text) => {
    const cell = document.createElement("td");
    cell.textContent = text;
    return cell;
  });
  const actionCell = document.createElement("td");
  const end = document.createElement("button");
  end.type = "button";
  end.className = session.current ? "danger small" : "small";
  end.textContent = session.current ? "End (logs out)" : "End";
  end.dataset["testid"] = "end-session";
  end.setAttribute(
    "aria-label",
    `End the session started ${formatTime(session.created_at)}${session.current ? " (this one: logs you out)" : ""}`,
  );
  end.addEventListener("click", () =>
    withBusy(end, async () => {
      try {
        if (session.current) signingOutHere = true;
        await client.endSession(session.id);
        announce(session.current ? "You ended this session and are now logged out." : "Session ended.");
        if (!session.current) await Promise.all([loadSessions(), loadActivity()]);
      } catch (error) {
        showError(ui.sessionsError, describeError(error));
      } finally {
        signingOutHere = false;
      }
    }),
  );
  actionCell.append(end);
  row.append(device, ...cells, actionCell);
  return row;
}

ui.loginForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const submit = ui.loginForm.querySelector("button[type=submit]") as HTMLButtonElement;
  void runAction(submit, ui.loginError, async () => {
    const username = ui.loginUsername.value.trim();
    if (!username || !ui.loginPassword.value) {
      showError(ui.loginError, "Enter your username and password.");
      return;
    }
    // An address logs in by email; anything else is a username.
    const outcome = LOOKS_LIKE_EMAIL.test(username)
      ? await client.loginWithEmail(username, ui.loginPassword.value)
      : await client.login(username, ui.loginPassword.value);
    ui.loginForm.reset();
    if (outcome.status === "mfa-required") {
      // The password was right; the session starts only after the second step.
      pendingMfa = { token: outcome.mfaToken, username };
      ui.loginForm.hidden = true;
      ui.mfaForm.hidden = false;
      ui.mfaCode.focus();
      return;
    }
    announce(`Logged in as ${username}.`);
    ui.heading.focus();
  });
});

/** The first step's token while the second step is shown; never stored anywhere else. */
let pendingMfa: { token: string; username: string } | undefined;

ui.mfaForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const submit = ui.mfaForm.querySelector("button[type=submit]") as HTMLButtonElement;
  void runAction(submit, ui.mfaError, async () => {
    const value = ui.mfaCode.value.trim();
    if (!pendingMfa || !value) {
      showError(ui.mfaError, "Enter the code.");
      return;
    }
    const factor = ui.mfaUseRecovery.checked ? { recoveryCode: value } : { code: value };
    try {
      await client.completeMfaLogin(pendingMfa.token, factor);
    } catch (error) {
      // A dead token means starting over with the password.
      if ((error as { code?: string }).code === "invalid_grant") resetMfaStep();
      throw error;
    }
    const { username } = pendingMfa;
    resetMfaStep();
    announce(`Logged in as ${username}.`);
    ui.heading.focus();
  });
});

ui.passkeyLogin.addEventListener("click", () => {
  void runAction(ui.passkeyLogin, ui.loginError, async () => {
    await client.loginWithPasskey(webauthn);
    announce("Logged in with a passkey.");
    ui.heading.focus();
  });
});

ui.mfaPasskey.addEventListener("click", () => {
  void runAction(ui.mfaPasskey, ui.mfaError, async () => {
    if (!pendingMfa) return;
    const { token, username } = pendingMfa;
    try {
      await client.completeMfaLoginWithPasskey(token, webauthn);
    } catch (error) {
      if ((error as { code?: string }).code === "invalid_grant") resetMfaStep();
      throw error;
    }
    resetMfaStep();
    announce(`Logged in as ${username}.`);
    ui.heading.focus();
  });
});

async function showPasskeys(): Promise<void> {
  const passkeys = await client.passkeys();
  ui.passkeyList.replaceChildren(
    ...passkeys.map((passkey) => {
      const item = document.createElement("li");
      item.textContent = `${passkey.name} (added ${formatTime(passkey.created_at)})`;
      return item;
    }),
  );
}

ui.passkeyAdd.addEventListener("click", () => {
  void runAction(ui.passkeyAdd, ui.passkeyError, async () => {
    await client.registerPasskey(webauthn, { name: "Passkey on this device" });
    await showPasskeys();
    announce("Passkey added. Your other sessions have ended.");
  });
});

function resetMfaStep(): void {
  pendingMfa = undefined;
  ui.mfaForm.reset();
  ui.mfaForm.hidden = true;
  ui.loginForm.hidden = false;
}

ui.totpStart.addEventListener("click", () => {
  void runAction(ui.totpStart, ui.totpError, async () => {
    const enrolment = await client.enrolTotp();
    ui.totpSecret.textContent = enrolment.secret;
    renderQrCode(ui.totpQr, enrolment.otpauthUri);
    ui.recoveryBox.hidden = true;
    ui.totpEnrol.hidden = false;
    ui.totpCode.focus();
  });
});

ui.totpConfirmForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const submit = ui.totpConfirmForm.querySelector("button[type=submit]") as HTMLButtonElement;
  void runAction(submit, ui.totpError, async () => {
    const codes = await client.confirmTotp(ui.totpCode.value.trim());
    ui.totpConfirmForm.reset();
    ui.totpEnrol.hidden = true;
    ui.totpSecret.textContent = "";
    ui.totpQr.replaceChildren();
    ui.recoveryCodes.replaceChildren(
      ...codes.map((code) => {
        const item = document.createElement("li");
        item.textContent = code;
        return item;
      }),
    );
    ui.recoveryBox.hidden = false;
    announce("The authenticator app is on. Your other sessions have ended.");
  });
});

ui.totpDisableForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const submit = ui.totpDisableForm.querySelector("button[type=submit]") as HTMLButtonElement;
  void runAction(submit, ui.totpError, async () => {
    await client.disableTotp(ui.totpDisablePassword.value);
    ui.totpDisableForm.reset();
    ui.recoveryBox.hidden = true;
    announce("The authenticator app is off.");
  });
});

ui.registerForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const submit = ui.registerForm.querySelector("button[type=submit]") as HTMLButtonElement;
  void runAction(submit, ui.registerError, async () => {
    const username = ui.registerUsername.value.trim();
    const password = ui.registerPassword.value;
    if (!username || !password) {
      showError(ui.registerError, "Choose a username and a password.");
      return;
    }
    const email = ui.registerEmail.value.trim();
    await client.register(username, password, email === "" ? undefined : email);
    try {
      await client.login(username, password);
    } catch (error) {
      // EMAIL_VERIFICATION=required: the account waits for its link.
      if (isGatehouseClientError(error, "email_not_verified")) {
        ui.registerForm.reset();
        announce("Account created. Open the link we mailed you to confirm your address, then log in.");
        return;
      }
      throw error;
    }
    ui.registerForm.reset();
    announce(
      email === ""
        ? `Account created. Logged in as ${username}.`
        : `Account created. Logged in as ${username}. We mailed a link to confirm ${email}.`,
    );
    ui.heading.focus();
  });
});

ui.callApi.addEventListener("click", () =>
  runAction(ui.callApi, ui.apiError, async () => {
    const response = await client.fetch("api/hello", { headers: { Accept: "application/json" } });
    const body: unknown = await response.json().catch(() => ({ note: "The answer was not JSON." }));
    ui.apiResult.textContent = `HTTP ${response.status}\n${JSON.stringify(body, null, 2)}`;
    ui.apiResult.hidden = false;
    ui.apiResult.dataset["status"] = String(response.status);
    announce(
      response.ok ? "The protected API answered." : `The protected API refused the call (HTTP ${response.status}).`,
    );
  }),
);

ui.refreshNow.addEventListener("click", () =>
  runAction(ui.refreshNow, ui.identityError, async () => {
    const state = await client.refresh();
    const seconds = state.expiresAt === undefined ? 0 : Math.round((state.expiresAt - Date.now()) / 1000);
    announce(`Renewed: a new access token, valid for ${seconds} seconds.`);
  }),
);

ui.logout.addEventListener("click", () =>
  withBusy(ui.logout, async () => {
    signingOutHere = true;
    try {
      await client.logout();
      announce("Logged out. Other tabs of this site were logged out too.");
    } catch (error) {
      announce(`Logged out here, but the server could not confirm it: ${describeError(error)}`);
    } finally {
      signingOutHere = false;
      ui.loginUsername.focus();
    }
  }),
);

ui.logoutAll.addEventListener("click", () =>
  withBusy(ui.logoutAll, async () => {
    signingOutHere = true;
    try {
      await client.logoutAll();
      announce("Logged out everywhere: every session of this account has ended.");
      ui.loginUsername.focus();
    } catch (error) {
      showError(ui.identityError, describeError(error));
    } finally {
      signingOutHere = false;
    }
  }),
);

ui.passwordForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const submit = ui.passwordForm.querySelector("button[type=submit]") as HTMLButtonElement;
  void runAction(submit, ui.passwordError, async () => {
    if (!ui.currentPassword.value || !ui.newPassword.value) {
      showError(ui.passwordError, "Enter your current password and a new one.");
      return;
    }
    await client.changePassword(ui.currentPassword.value, ui.newPassword.value);
    ui.currentPassword.value = "";
    ui.newPassword.value = "";
    announce("Password changed. Your other sessions have ended.");
    await Promise.all([loadSessions(), loadActivity()]);
  });
});

ui.forgotForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const submit = ui.forgotForm.querySelector("button[type=submit]") as HTMLButtonElement;
  void runAction(submit, ui.forgotError, async () => {
    const email = ui.forgotEmail.value.trim();
    if (!email) {
      showError(ui.forgotError, "Enter the email address of your account.");
      return;
    }
    await client.forgotPassword(email);
    ui.forgotForm.reset();
    announce("If an account has this verified address, a reset link is on its way. It works for 30 minutes.");
  });
});

ui.resetForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const submit = ui.resetForm.querySelector("button[type=submit]") as HTMLButtonElement;
  void runAction(submit, ui.resetError, async () => {
    if (resetToken === undefined || !ui.resetPassword.value) {
      showError(ui.resetError, "Choose a new password.");
      return;
    }
    await client.resetPassword(resetToken, ui.resetPassword.value);
    resetToken = undefined;
    ui.resetForm.reset();
    ui.resetForm.hidden = true;
    announce("Password reset, and every session ended. Log in with the new password.");
    ui.loginUsername.focus();
  });
});

/**
 * Mailed links carry their token in the fragment (`#verify=…`, `#reset=…`), which never reaches
 * a server log or a Referer. The page takes it, removes it from the address bar and history at
 * once (history.replaceState), and posts it.
 */
async function handleMailLink(): Promise<void> {
  const match = /^#(verify|reset)=([A-Za-z0-9_-]+)$/.exec(location.hash);
  if (!match) return;
  history.replaceState(null, "", location.pathname + location.search);
  const [, kind, token] = match;
  if (kind === "reset") {
    resetToken = token;
    ui.resetForm.hidden = false;
    announce("Choose a new password for your account.");
    ui.resetPassword.focus();
    return;
  }
  try {
    await client.verifyEmail(token!);
    announce("Your email address is confirmed.");
    if (client.status === "signed-in") await loadIdentity();
  } catch (error) {
    announce(`That confirmation link did not work: ${describeError(error)}`);
  }
}

ui.reloadSessions.addEventListener("click", () => withBusy(ui.reloadSessions, loadSessions));
ui.reloadActivity.addEventListener("click", () => withBusy(ui.reloadActivity, loadActivity));

client.onChange(render);
setInterval(updateCountdown, 250);

async function start(): Promise<void> {
  try {
    const state = await client.restore();
    if (state.status === "signed-in") announce("Welcome back: your session was restored.");
    else announce("Not signed in. Log in or create an account.");
    render(state);
  } catch (error) {
    render({ status: "signed-out" });
    announce(`Could not check for an existing session. ${describeError(error)}`);
  }
  await handleMailLink();
}

void start();
