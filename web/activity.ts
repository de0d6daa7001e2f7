/** The "recent activity" list of the demo page: the user's own security events, in words. */
import type { GatehouseActivityEvent } from "../src/client/index.ts";
import { formatTime, summariseUserAgent } from "./dom.ts";

/** What each event type means to the person reading their own activity. */
const LABELS: Record<string, string> = {
  user_registered: "Account created",
  login_succeeded: "Logged in",
  login_failed: "Failed login attempt",
  login_throttled: "Login attempts blocked (too many)",
  refresh_reused: "Session ended: an old refresh token was used again",
  logout: "Logged out",
  logout_all: "Logged out everywhere",
  session_revoked: "Session ended",
  password_changed: "Password changed",
  password_reset: "Password reset",
  email_verified: "Email address verified",
  email_changed: "Email address changed",
  mfa_enabled: "Second factor turned on",
  mfa_disabled: "Second factor turned off",
  user_disabled: "Account disabled",
  user_enabled: "Account enabled",
};

export function activityLabel(type: string): string {
  return LABELS[type] ?? type.replaceAll("_", " ");
}

/** One list item: what happened, then when, from which device and address. Text only, never HTML. */
export function activityItem(event: GatehouseActivityEvent): HTMLLIElement {
  const item = document.createElement("li");
  item.dataset["testid"] = "activity-item";
  item.dataset["type"] = event.type;
  if (event.type === "login_failed" || event.type === "login_throttled" || event.type === "refresh_reused") {
    item.className = "warning";
  }
  const what = document.createElement("strong");
  what.textContent = activityLabel(event.type);
  const where = [formatTime(event.at), summariseUserAgent(event.user_agent), event.ip ?? "unknown address"];
  const details = document.createElement("span");
  details.className = "hint";
  details.textContent = ` · ${where.join(" · ")}`;
  item.append(what, details);
  return item;
}
