// Progressive enhancement for the server-rendered pages: theme switch, confirmations,
// run selection (compare, delete, restore) and collapsing child runs. Every page works
// without it except the charts.

const root = document.documentElement;

function currentTheme() {
  if (root.dataset.theme) return root.dataset.theme;
  return matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

document.getElementById("theme-toggle")?.addEventListener("click", () => {
  const next = currentTheme() === "dark" ? "light" : "dark";
  root.dataset.theme = next;
  try { localStorage.setItem("heron-theme", next); } catch (e) { /* private mode */ }
  document.dispatchEvent(new CustomEvent("heron:theme", { detail: next }));
});

// Forms (or buttons) with data-confirm ask before they submit.
document.addEventListener("submit", (event) => {
  const button = event.submitter;
  const message = button?.dataset.confirm || event.target.dataset.confirm;
  if (message && !confirm(message)) event.preventDefault();
});

// Runs table: selection drives the Compare / Delete / Restore / Hide buttons.
const runsForm = document.getElementById("runs-form");
if (runsForm) {
  const boxes = () => [...runsForm.querySelectorAll('input[name="run_id"]')];
  const selected = () => boxes().filter((b) => b.checked).map((b) => b.value);
  const compare = document.getElementById("compare-button");
  const update = () => {
    const n = selected().length;
    for (const id of ["delete-button", "restore-button"]) {
      const b = document.getElementById(id);
      if (b) b.disabled = n === 0;
    }
    if (compare) compare.disabled = n < 2;
    const chart = document.getElementById("chart-button");
    if (chart) chart.disabled = n === 0;
    const hideButton = document.getElementById("hide-button");
    if (hideButton) hideButton.disabled = n === 0;
  };
  runsForm.addEventListener("change", (event) => {
    if (event.target.id === "select-all") {
      for (const b of boxes()) if (!b.closest("tr").classList.contains("hidden-child")) b.checked = event.target.checked;
    }
    update();
  });
  document.getElementById("chart-button")?.addEventListener("click", (event) => {
    const params = new URLSearchParams(selected().map((id) => ["runs", id]));
    location.href = `/experiments/${encodeURIComponent(event.target.dataset.experiment)}/charts?${params}`;
  });
  compare?.addEventListener("click", () => {
    const params = new URLSearchParams(selected().map((id) => ["runs", id]));
    location.href = "/compare?" + params.toString();
  });
  // Hide the selected runs: their ids join ?hide= in the URL, so the view can be shared.
  document.getElementById("hide-button")?.addEventListener("click", () => {
    const url = new URL(location.href);
    const hidden = new Set(url.searchParams.getAll("hide"));
    for (const id of selected()) hidden.add(id);
    url.searchParams.delete("hide");
    for (const id of [...hidden].sort()) url.searchParams.append("hide", id);
    location.href = url.pathname + url.search;
  });
  // Collapse / expand the children of a parent run (and their children).
  runsForm.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-toggle]");
    if (!button) return;
    const open = button.getAttribute("aria-expanded") === "true";
    button.setAttribute("aria-expanded", String(!open));
    button.textContent = open ? "▸" : "▾";
    const hide = (parentId, hidden) => {
      for (const row of runsForm.querySelectorAll(`tr[data-parent="${CSS.escape(parentId)}"]`)) {
        row.classList.toggle("hidden-child", hidden);
        const inner = row.querySelector("button[data-toggle]");
        hide(row.dataset.runId, hidden || inner?.getAttribute("aria-expanded") === "false");
      }
    };
    hide(button.dataset.toggle, open);
  });
  update();
}
