// MLflow's UI addresses opened on Heron: the mlflow client prints links such as
// http://host/#/experiments/1/runs/<id>; the part after # names one of MLflow's pages, which
// the browser never sends. This finds Heron's page for the same thing and goes there.

export function heronPath(route) {
  const cut = route.indexOf("?");
  const path = cut < 0 ? route : route.slice(0, cut);
  const params = new URLSearchParams(cut < 0 ? "" : route.slice(cut + 1));
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  const e = encodeURIComponent;
  const trace = params.get("selectedEvaluationId") || params.get("selectedTraceId");
  if (trace) return `/traces/${e(trace)}`;
  const [head, a, b, c, d] = parts;
  if (head === "experiments" && a) return experimentPath(a, b, c, d);
  if (head === "models" && a) {
    return b === "versions" && c ? `/models/${e(a)}/versions/${e(c)}` : `/models/${e(a)}`;
  }
  if (head === "models") return "/models";
  if (head === "prompts") return a ? `/prompts/${e(a)}` : "/prompts";
  if (head === "compare-runs") {
    let runs = [];
    try { runs = JSON.parse(params.get("runs") || "[]"); } catch (err) { runs = []; }
    return "/compare?" + new URLSearchParams(runs.map((run) => ["runs", String(run)]));
  }
  return null;
}

const TABS = {
  runs: "runs", traces: "traces", overview: "overview", "chat-sessions": "sessions",
  prompts: "prompts", "evaluation-runs": "runs",
};

function experimentPath(id, tab, item, sub) {
  const e = encodeURIComponent;
  if (tab === "runs" && item) {
    return sub === "artifactPath" || sub === "artifacts" ? `/runs/${e(item)}/artifacts` : `/runs/${e(item)}`;
  }
  if (tab === "models") return item ? `/logged-models/${e(item)}` : `/logged-models?experiment=${e(id)}`;
  if (tab === "traces" && item) return `/traces/${e(item)}`;
  if (tab === "chat-sessions" && item) return `/experiments/${e(id)}/sessions/${e(item)}`;
  if (tab === "prompts" && item) return `/prompts/${e(item)}`;
  if (tab && TABS[tab]) return `/experiments/${e(id)}/${TABS[tab]}`;
  return `/experiments/${e(id)}`;
}

if (location.hash.startsWith("#/")) {
  const target = heronPath(location.hash.slice(1));
  if (target) location.replace(target);
}
