// The sign-in card of every page (shell.js): the local demo user picker, or a single button to the
// Cognito Hosted UI. A page names its card's title and note; the admin console picks from a select.

import { h, replaceChildren } from "../dom.js";
import { formatMemberships } from "../format.js";

export const LOGIN_TITLE = "Sign in to the Exec Cockpit";
const DEMO_NOTE = "Local demo: choose a user. Each sees only their tenants and the dashboards of their role.";
const COGNITO_NOTE = "You will be sent to your organisation's sign-in page and brought back here.";

function loginCard(container, { title = LOGIN_TITLE, note }, ...body) {
  replaceChildren(
    container,
    h(
      "section",
      { class: "login card", "aria-labelledby": "login-title", "data-testid": "login" },
      h("h1", { id: "login-title" }, title),
      note ? h("p", { class: "muted" }, note) : null,
      ...body,
    ),
  );
  container.querySelector("button, select")?.focus();
}

function userButtons(users, onPick) {
  return h(
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
}

/** A compact picker: a <select> of the users and a submit button (`select`: {id, testid}). */
function userSelect(users, onPick, { id, testid }) {
  const select = h(
    "select",
    { id, "aria-label": "Demo user" },
    users.map((u) => h("option", { value: u.username }, u.display || u.username)),
  );
  const submit = h("button", { type: "submit", class: "btn btn-primary" }, "Sign in");
  return h(
    "form",
    {
      class: "login-select",
      "data-testid": testid,
      onsubmit: (ev) => {
        ev.preventDefault();
        onPick(select.value, submit);
      },
    },
    select,
    " ",
    submit,
  );
}

/** The demo user picker; `options`: {title, note, select} (`select` set: a <select> instead of buttons). */
export function renderDemoLogin(container, users, onPick, options = {}) {
  const { note = DEMO_NOTE, select = null } = options;
  let picker;
  if (!users.length) picker = h("p", {}, "No demo users are configured.");
  else picker = select ? userSelect(users, onPick, select) : userButtons(users, onPick);
  loginCard(container, { ...options, note }, picker);
}

export function renderCognitoLogin(container, onSignIn, options = {}) {
  loginCard(
    container,
    { ...options, note: COGNITO_NOTE },
    h(
      "button",
      { type: "button", class: "btn btn-primary", "data-testid": "login-cognito", onclick: onSignIn },
      "Sign in",
    ),
  );
}
