// Keeps the monitor's numbers current without reloading the page: polls the JSON endpoint
// named in #live's data-source and writes each number into the element whose data-cell
// matches its key. Served by Tepat itself (CSP script-src 'self'); no inline script.
(function () {
  "use strict";
  const root = document.getElementById("live");
  if (!root || !root.dataset.source) return;
  const every = Math.max(1000, parseInt(root.dataset.pollMs || "30000", 10));
  const stamp = document.getElementById("live-updated");
  const state = document.getElementById("live-state");
  const cells = new Map();
  root.querySelectorAll("[data-cell]").forEach((el) => cells.set(el.dataset.cell, el));

  async function refresh() {
    // A hidden tab (a projector left on another slide) costs the server nothing.
    if (document.visibilityState !== "hidden") {
      try {
        const response = await fetch(root.dataset.source, {
          credentials: "same-origin",
          headers: { Accept: "application/json" },
        });
        if (!response.ok) throw new Error(String(response.status));
        const data = await response.json();
        for (const [key, value] of Object.entries(data.cells)) {
          const el = cells.get(key);
          if (el && el.textContent !== String(value)) {
            el.textContent = String(value);
            el.classList.add("changed");
            setTimeout(() => el.classList.remove("changed"), 4000);
          }
        }
        if (stamp) stamp.textContent = data.generated_at;
        if (state) state.hidden = true;
      } catch (err) {
        if (state) state.hidden = false; // the numbers shown are getting old
      }
    }
    setTimeout(refresh, every);
  }
  setTimeout(refresh, every);
})();
