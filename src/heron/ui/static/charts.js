// Metric charts (ECharts): one line chart per metric, every run of the page overlaid, drawn
// from the server's sampled history (get-history-bulk-interval), never from every point.
// Also the compare page's parallel coordinates and scatter plot.

const HISTORY = "/ajax-api/2.0/mlflow/metrics/get-history-bulk-interval";
const MAX_RUNS_PER_REQUEST = 100;
const charts = new Map(); // element -> echarts instance

function dark() {
  const theme = document.documentElement.dataset.theme;
  if (theme) return theme === "dark";
  return matchMedia("(prefers-color-scheme: dark)").matches;
}

function chartFor(el) {
  let chart = charts.get(el);
  if (!chart) {
    chart = echarts.init(el, dark() ? "dark" : null, { renderer: "canvas" });
    charts.set(el, chart);
  }
  return chart;
}

function resetCharts() {
  for (const chart of charts.values()) chart.dispose();
  charts.clear();
}

async function fetchHistory(runIds, metric, points) {
  const out = [];
  for (let i = 0; i < runIds.length; i += MAX_RUNS_PER_REQUEST) {
    const params = new URLSearchParams();
    for (const id of runIds.slice(i, i + MAX_RUNS_PER_REQUEST)) params.append("run_ids", id);
    params.set("metric_key", metric);
    params.set("max_results", String(points));
    const response = await fetch(`${HISTORY}?${params}`, { credentials: "same-origin" });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(body.message || `HTTP ${response.status}`);
    out.push(...(body.metrics || []));
  }
  return out;
}

// Exponential moving average with bias correction: the first points are not pulled to 0.
function smooth(values, weight) {
  if (!weight) return values;
  let last = 0;
  let debias = 0;
  return values.map((v) => {
    if (!Number.isFinite(v)) return v;
    last = last * weight + (1 - weight) * v;
    debias = debias * weight + (1 - weight);
    return last / debias;
  });
}

function controls() {
  const form = document.getElementById("chart-controls");
  if (!form) return { x: "step", smoothing: 0, log: false, points: 320 };
  return {
    x: form.elements.x.value,
    smoothing: Number(form.elements.smoothing.value),
    log: form.elements.log.checked,
    points: Number(form.elements.points.value),
  };
}

// Bounds that fit the data: ECharts' own for one value, or values close together, reach far
// past them (an accuracy of 0.95 drawn from 0.4 to 1.6). These leave 5 % of the data's span
// (of the value itself when all values are one) on each side.
function fitted(log) {
  if (log) return {};
  const pad = (e) => {
    const span = e.max - e.min;
    return span > 0 ? span * 0.05 : Math.abs(e.max) * 0.05 || 1;
  };
  return {
    min: (e) => e.min - pad(e),
    max: (e) => e.max + pad(e),
    axisLabel: { formatter: (v) => String(Number(Number(v).toPrecision(6))), showMinLabel: false, showMaxLabel: false },
  };
}

function lineOption(metric, series, opts) {
  const xName = { step: "step", time: "time", relative: "seconds since start" }[opts.x];
  return {
    backgroundColor: "transparent",
    animation: false,
    title: { text: metric, left: 8, top: 4, textStyle: { fontSize: 13 } },
    tooltip: { trigger: "axis", confine: true },
    legend: { type: "scroll", bottom: 34, left: 8, right: 8 },
    grid: { left: 56, right: 20, top: 36, bottom: 84 },
    xAxis: { type: opts.x === "time" ? "time" : "value", name: xName, nameLocation: "middle", nameGap: 24, scale: true },
    yAxis: { type: opts.log ? "log" : "value", scale: true, ...fitted(opts.log) },
    dataZoom: [{ type: "inside", xAxisIndex: 0 }, { type: "slider", xAxisIndex: 0, height: 16, bottom: 6 }],
    series,
  };
}

async function drawLineCharts(container) {
  const runs = JSON.parse(container.dataset.runs);
  const names = new Map(runs.map((r) => [r.id, r.name]));
  const opts = controls();
  for (const el of container.querySelectorAll(".chart[data-metric]")) {
    const metric = el.dataset.metric;
    const chart = chartFor(el);
    chart.showLoading();
    let points;
    try {
      points = await fetchHistory(runs.map((r) => r.id), metric, opts.points);
    } catch (error) {
      chart.hideLoading();
      el.replaceChildren(Object.assign(document.createElement("p"), {
        className: "alert error", textContent: `Could not load ${metric}: ${error.message}`,
      }));
      charts.delete(el);
      continue;
    }
    const byRun = new Map();
    for (const p of points) {
      if (!byRun.has(p.run_id)) byRun.set(p.run_id, []);
      byRun.get(p.run_id).push(p);
    }
    const series = [];
    for (const [runId, rows] of byRun) {
      rows.sort((a, b) => (opts.x === "step" ? a.step - b.step : a.timestamp - b.timestamp));
      const start = Math.min(...rows.map((r) => r.timestamp));
      const xs = rows.map((r) => (opts.x === "step" ? r.step : opts.x === "time" ? r.timestamp : (r.timestamp - start) / 1000));
      const ys = smooth(rows.map((r) => Number(r.value)), opts.smoothing);
      const data = xs.map((x, i) => [x, opts.log && !(ys[i] > 0) ? null : ys[i]]);
      series.push({ name: names.get(runId) || runId, type: "line", showSymbol: rows.length < 50, data, sampling: "lttb", connectNulls: false });
    }
    chart.hideLoading();
    chart.setOption(lineOption(metric, series, opts), true);
    el.dataset.points = String(points.length);
    el.dataset.ready = "1";
  }
}

function drawParallel(el) {
  const data = JSON.parse(document.getElementById("compare-data").textContent);
  if (!data.axes.length) return;
  const axes = data.axes.map((a, i) => {
    const values = data.runs.map((r) => r.values[i]);
    const numeric = values.every((v) => v === null || typeof v === "number");
    const axis = { dim: i, name: a, scale: true };
    if (!numeric) axis.type = "category", axis.data = [...new Set(values.filter((v) => v !== null).map(String))];
    return axis;
  });
  const chart = chartFor(el);
  chart.setOption({
    backgroundColor: "transparent",
    animation: false,
    tooltip: { trigger: "item" },
    parallelAxis: axes,
    parallel: { left: 60, right: 80, top: 40, bottom: 40 },
    series: [{
      type: "parallel", lineStyle: { width: 2, opacity: 0.7 },
      data: data.runs.map((r) => ({ name: r.name, value: r.values.map((v, i) => (v === null ? null : axes[i].type === "category" ? String(v) : v)) })),
    }],
  }, true);
  el.dataset.ready = "1";
}

function drawScatter(el) {
  const data = JSON.parse(document.getElementById("compare-data").textContent);
  const form = document.getElementById("scatter-controls");
  const xi = Number(form.elements.x.value);
  const yi = Number(form.elements.y.value);
  const points = data.runs
    .filter((r) => r.values[xi] !== null && r.values[yi] !== null)
    .map((r) => ({ name: r.name, value: [r.values[xi], r.values[yi]] }));
  const axisType = (i) => (data.runs.every((r) => r.values[i] === null || typeof r.values[i] === "number") ? "value" : "category");
  // Room on the right for the labels of the right-most points (run names, cut at 24).
  const longest = Math.max(0, ...points.map((p) => Math.min(24, String(p.name).length)));
  const numeric = (i) => (axisType(i) === "value" ? fitted(false) : {});
  const chart = chartFor(el);
  chart.setOption({
    backgroundColor: "transparent",
    animation: false,
    tooltip: { trigger: "item", formatter: (p) => `${echarts.format.encodeHTML(p.name)}<br>${p.value[0]}, ${p.value[1]}` },
    grid: { left: 70, right: 30 + 7 * longest, top: 30, bottom: 50, containLabel: true },
    xAxis: { type: axisType(xi), name: data.axes[xi], nameLocation: "middle", nameGap: 30, scale: true, ...numeric(xi) },
    yAxis: { type: axisType(yi), name: data.axes[yi], scale: true, ...numeric(yi) },
    series: [{
      type: "scatter", symbolSize: 12, data: points,
      label: { show: true, position: "right", formatter: (p) => String(p.name).slice(0, 24) },
      labelLayout: { hideOverlap: true },
    }],
  }, true);
  el.dataset.ready = "1";
}

function drawAll() {
  const lines = document.getElementById("charts");
  if (lines) drawLineCharts(lines);
  const parallel = document.getElementById("parallel");
  if (parallel) drawParallel(parallel);
  const scatter = document.getElementById("scatter");
  if (scatter) drawScatter(scatter);
}

function start() {
  const form = document.getElementById("chart-controls");
  form?.addEventListener("change", () => drawLineCharts(document.getElementById("charts")));
  form?.elements.smoothing.addEventListener("input", (e) => {
    document.getElementById("chart-smoothing-value").textContent = e.target.value;
  });
  document.getElementById("scatter-controls")?.addEventListener("change", () => drawScatter(document.getElementById("scatter")));
  document.addEventListener("heron:theme", () => { resetCharts(); drawAll(); });
  addEventListener("resize", () => { for (const chart of charts.values()) chart.resize(); });
  drawAll();
}

// echarts.min.js is a deferred classic script; module scripts run after it.
start();
