// Sign-in screens: the local demo user picker, or a single button to the Cognito Hosted UI.

import { h, replaceChildren } from "../dom.js";
import { formatMemberships } from "../format.js";

export function renderDemoLogin(container, users, onPick) {
  const list = h(
    "ul",
    { class: "login-users", "aria-label": "Demo users" },
    users.map((user) =>
      h(
        "li",
        {},
        h(
          "button",
          {
            type: "button",
            class: "login-user",
            "data-testid": "login-user",
            "data-username": user.username,
            onclick: (ev) => onPick(user.username, ev.currentTarget),
          },
          h("span", { class: "login-user-name" }, user.display || user.username),
          h("span", { class: "login-user-meta" }, user.username),
          h("span", { class: "login-user-meta" }, formatMemberships(user.memberships)),
        ),
      ),
    ),
  );
  replaceChildren(
    container,
    h(
      "section",
      { class: "login card", "aria-labelledby": "login-title", "data-testid": "login" },
      h("h1", { id: "login-title" }, "Sign in to the Exec Cockpit"),
      h(
        "p",
        { class: "muted" },
        "Local demo: choose a user. Each sees only their tenants and the dashboards of their role.",
      ),
      users.length ? list : h("p", {}, "No demo users are configured."),
    ),
  );
  container.querySelector("button")?.focus();
}

export function renderCognitoLogin(container, onSignIn) {
  replaceChildren(
    container,
    h(
      "section",
      { class: "login card", "aria-labelledby": "login-title", "data-testid": "login" },
      h("h1", { id: "login-title" }, "Sign in to the Exec Cockpit"),
      h(
        "p",
        { class: "muted" },
        "You will be sent to your organisation's sign-in page and brought back here.",
      ),
      h(
        "button",
        { type: "button", class: "btn btn-primary", "data-testid": "login-cognito", onclick: onSignIn },
        "Sign in",
      ),
    ),
  );
  container.querySelector("button")?.focus();
}
