/** Small DOM helpers for the demo page. Text goes in with textContent only, never as HTML. */

/** The element with this id; a missing one is a bug in index.html, so fail loudly. */
export function element<T extends HTMLElement = HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`index.html has no element #${id}`);
  return found as T;
}

export function showError(node: HTMLElement, message: string): void {
  node.textContent = message;
  node.hidden = false;
}

export function hideError(node: HTMLElement): void {
  node.textContent = "";
  node.hidden = true;
}

/** Disables a button (and marks it busy) while `task` runs, so double clicks do not double-submit. */
export async function withBusy(button: HTMLButtonElement, task: () => Promise<void>): Promise<void> {
  if (button.disabled) return;
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    await task();
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}

/** `m:ss` until expiry; "renewing…" once it is due. */
export function formatCountdown(ms: number): string {
  if (ms <= 0) return "renewing…";
  const total = Math.ceil(ms / 1000);
  const minutes = Math.floor(total / 60);
  const seconds = total % 60;
  return `${minutes}:${String(seconds).padStart(2, "0")}`;
}

const timeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

export function formatTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : timeFormat.format(date);
}

/** "Chrome on Linux" from a user-agent string; enough to tell devices apart. */
export function summariseUserAgent(ua: string | null): string {
  if (!ua) return "Unknown device";
  const browser = /Edg\//.test(ua)
    ? "Edge"
    : /Firefox\//.test(ua)
      ? "Firefox"
      : /HeadlessChrome\//.test(ua)
        ? "Headless Chrome"
        : /Chrom(e|ium)\//.test(ua)
          ? "Chrome"
          : /Safari\//.test(ua)
            ? "Safari"
            : /curl\//.test(ua)
              ? "curl"
              : undefined;
  const os = /Android/.test(ua)
    ? "Android"
    : /iPhone|iPad/.test(ua)
      ? "iOS"
      : /Windows/.test(ua)
        ? "Windows"
        : /Mac OS X/.test(ua)
          ? "macOS"
          : /Linux/.test(ua)
            ? "Linux"
            : undefined;
  if (browser && os) return `${browser} on ${os}`;
  return browser ?? os ?? ua.slice(0, 60);
}
