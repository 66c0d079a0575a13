// The demo seed's progress banner. infra/local adds this script to the pages it serves while
// `make demo` seeds in the background: it polls GET /api/demo/status once a second and shows the step.
// When the seed is done it reloads a page whose data was refused (503 demo_seeding), else it goes.
(() => {
  const banner = document.createElement("div");
  banner.id = "demo-seed-banner";
  banner.setAttribute("role", "status");
  banner.setAttribute("aria-live", "polite");
  banner.dataset.testid = "demo-seed-banner";
  banner.style.cssText =
    "position:sticky;top:0;z-index:1000;display:flex;gap:.75rem;align-items:center;" +
    "padding:.5rem 1rem;background:#fff4ce;color:#3b2f00;border-bottom:1px solid #e0c660;" +
    "font:14px/1.4 system-ui,sans-serif";
  const bar = document.createElement("progress");
  bar.style.cssText = "flex:0 0 10rem";
  const text = document.createElement("span");
  text.dataset.testid = "demo-seed-text";
  banner.append(bar, text);
  document.body.prepend(banner);

  const refused = () =>
    [...document.querySelectorAll('[data-testid="error-code"]')].some((e) => e.textContent === "demo_seeding");

  async function poll() {
    let s;
    try {
      const response = await fetch("/api/demo/status", { cache: "no-store" });
      s = await response.json();
    } catch {
      text.textContent = "Demo data: waiting for the local server…";
      setTimeout(poll, 2000);
      return;
    }
    bar.max = Math.max(1, s.total);
    bar.value = s.done;
    if (s.state === "ready") {
      text.textContent = `Demo data ready (seeded in ${Math.round(s.seconds)} s).`;
      if (refused()) window.location.reload();
      else setTimeout(() => banner.remove(), 4000);
      return;
    }
    if (s.state === "failed") {
      text.textContent = `Seeding the demo data failed: ${s.error}. See the terminal of make demo.`;
      return;
    }
    const step = Math.min(s.done + 1, s.total);
    text.textContent =
      `Seeding demo data: step ${step} of ${s.total}, ${s.step} (${Math.round(s.seconds)} s). ` +
      "You can sign in now; the dashboards answer when seeding is done.";
    setTimeout(poll, 1000);
  }
  poll();
})();
