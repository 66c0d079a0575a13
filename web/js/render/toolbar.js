// The cockpit's toolbar: persona switcher, period selector, freshness slot and refresh (the tenant
// chip, console links and sign out are the shell's header, shell.js).

import { h, replaceChildren } from "../dom.js";
import { personaLabel, PERSONA_TITLES } from "../format.js";
import { PERIODS } from "../router.js";

function personaSwitcher(route, onPersona) {
  const personas = route.tenantInfo.personas || [];
  const onKeydown = (event) => {
    const buttons = [...event.currentTarget.querySelectorAll("button")];
    const i = buttons.indexOf(document.activeElement);
    if (i < 0) return;
    const next = {
      ArrowRight: i + 1,
      ArrowDown: i + 1,
      ArrowLeft: i - 1,
      ArrowUp: i - 1,
      Home: 0,
      End: buttons.length - 1,
    }[event.key];
    if (next === undefined) return;
    event.preventDefault();
    buttons[(next + buttons.length) % buttons.length].focus();
  };
  return h(
    "nav",
    {
      class: "persona-switcher",
      "aria-label": "Dashboards",
      "data-testid": "persona-switcher",
      onkeydown: onKeydown,
    },
    h(
      "ul",
      {},
      personas.map((p) =>
        h(
          "li",
          {},
          h(
            "button",
            {
              type: "button",
              class: "persona-btn",
              "data-persona": p,
              "data-focus-key": `persona-${p}`,
              "aria-current": p === route.persona ? "page" : null,
              title: PERSONA_TITLES[p] || null,
              onclick: () => onPersona(p),
            },
            personaLabel(p),
          ),
        ),
      ),
    ),
  );
}

function periodSelect(route, onPeriod) {
  return h(
    "div",
    { class: "period" },
    h("label", { for: "period-select" }, "Period"),
    h(
      "select",
      {
        id: "period-select",
        "data-testid": "period-select",
        "data-focus-key": "period",
        onchange: (e) => onPeriod(e.target.value),
      },
      PERIODS.map((p) => h("option", { value: p, selected: p === route.period }, `Last ${p}`)),
    ),
  );
}

/** Re-render the cockpit's toolbar; keeps keyboard focus on the equivalent control. */
export function renderToolbar(toolbar, { route, onPersona, onPeriod, onRefresh }) {
  const focusKey = document.activeElement?.dataset?.focusKey || null;
  replaceChildren(
    toolbar,
    personaSwitcher(route, onPersona),
    h(
      "div",
      { class: "toolbar-right" },
      periodSelect(route, onPeriod),
      h("span", { id: "freshness-slot" }),
      h(
        "button",
        {
          type: "button",
          class: "btn btn-quiet",
          "data-testid": "refresh",
          "data-focus-key": "refresh",
          onclick: onRefresh,
        },
        "Refresh",
      ),
    ),
  );
  toolbar.hidden = false;
  if (focusKey) toolbar.querySelector(`[data-focus-key="${focusKey}"]`)?.focus();
}
