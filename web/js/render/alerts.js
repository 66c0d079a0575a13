// The two live regions of every page (shell.js): #error-alert (role=alert) for API errors, #status
// (role=status) for loading. The alert carries the error's machine code in data-code too.

import { h, replaceChildren } from "../dom.js";

const errorRegion = () => document.getElementById("error-alert");
const statusRegion = () => document.getElementById("status");

/** Show an error: the server's message, and its machine code when there is one. */
export function showError(err) {
  const region = errorRegion();
  const code = err && err.code ? err.code : null;
  replaceChildren(
    region,
    h(
      "div",
      { class: "alert-body" },
      h("strong", {}, "Something went wrong: "),
      h("span", { "data-testid": "error-message" }, err?.message || String(err)),
      code ? h("code", { class: "alert-code", "data-testid": "error-code" }, code) : null,
    ),
    h("button", { type: "button", class: "btn btn-quiet", onclick: clearError }, "Dismiss"),
  );
  region.dataset.code = code || "";
  region.classList.add("is-visible");
}

export function clearError() {
  const region = errorRegion();
  region.replaceChildren();
  region.dataset.code = "";
  region.classList.remove("is-visible");
}

/** Announce progress; `busy` keeps the line visible (loading), otherwise it is for screen readers. */
export function setStatus(text, { busy = false } = {}) {
  const region = statusRegion();
  region.textContent = text || "";
  region.classList.toggle("is-busy", busy && Boolean(text));
}
