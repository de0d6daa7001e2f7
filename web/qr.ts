import qrcode from "qrcode-generator";

const SVG = "http://www.w3.org/2000/svg";

/**
 * Draws `text` as a QR code inside `container`, built here in the page (the otpauth URI holds
 * the TOTP secret, so it must never go to a third-party QR service). DOM nodes, no innerHTML.
 */
export function renderQrCode(container: HTMLElement, text: string): void {
  const qr = qrcode(0, "M");
  qr.addData(text);
  qr.make();
  const size = qr.getModuleCount();
  const quiet = 4;
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${size + 2 * quiet} ${size + 2 * quiet}`);
  svg.setAttribute("width", "200");
  svg.setAttribute("height", "200");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", "QR code for your authenticator app");
  const background = document.createElementNS(SVG, "rect");
  background.setAttribute("width", "100%");
  background.setAttribute("height", "100%");
  background.setAttribute("fill", "#fff");
  svg.append(background);
  let path = "";
  for (let row = 0; row < size; row++) {
    for (let col = 0; col < size; col++) {
      if (qr.isDark(row, col)) path += `M${col + quiet},${row + quiet}h1v1h-1z`;
    }
  }
  const modules = document.createElementNS(SVG, "path");
  modules.setAttribute("d", path);
  modules.setAttribute("fill", "#000");
  svg.append(modules);
  container.replaceChildren(svg);
}
