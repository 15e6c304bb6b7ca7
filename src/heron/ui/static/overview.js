// The GenAI overview's charts (ECharts), drawn from the numbers the server computed and put in
// #overview-data. Clicking a point opens the Traces tab on the traces behind it: the page's
// filter, the point's time range and its series' own clause (errors, a score, a tool).

const el = document.getElementById("overview-data");
const data = el ? JSON.parse(el.textContent) : null;
const charts = new Map();

function dark() {
  const theme = document.documentElement.dataset.theme;
  if (theme) return theme === "dark";
  return matchMedia("(prefers-color-scheme: dark)").matches;
}

function link(lo, hi, extra, slowest) {
  const clauses = [data.filter, `timestamp_ms >= ${lo}`, `timestamp_ms < ${hi}`, extra];
  const params = new URLSearchParams({ q: clauses.filter(Boolean).join(" AND ") });
  if (slowest) { params.set("sort", "duration"); params.set("dir", "desc"); }
  return `${data.traces_url}?${params}`;
}

function base(title) {
  return {
    backgroundColor: "transparent",
    animation: false,
    title: { text: title, left: 8, top: 4, textStyle: { fontSize: 13 } },
    tooltip: { trigger: "axis", confine: true },
    legend: { type: "scroll", bottom: 4, left: 8, right: 8 },
    grid: { left: 64, right: 24, top: 36, bottom: 56 },
    xAxis: { type: "time" },
    yAxis: { type: "value" },
  };
}

// [time, value] pairs at each bucket's start; `at` gives the value of bucket i.
function pairs(at) { return data.buckets.map(([lo], i) => [lo, at(i)]); }
function round(v, digits) { return v === null || v === undefined ? null : Number(v.toFixed(digits)); }

// Each series carries `links`: the URL behind each of its points. Lines of many points draw
// no symbol per point (the tooltip still shows each), which keeps drawing cheap.
function draw(id, option, points) {
  const node = document.getElementById(id);
  if (!node) return;
  for (const series of option.series) {
    if (series.type === "line") series.showSymbol = series.data.length <= 60;
  }
  const chart = echarts.init(node, dark() ? "dark" : null, { renderer: "canvas" });
  chart.setOption(option);
  chart.on("click", (p) => {
    const url = option.series[p.seriesIndex].links?.[p.dataIndex];
    if (url) location.href = url;
  });
  charts.set(node, chart);
  node.dataset.points = String(points);
  node.dataset.ready = "1";
}

function bucketLinks(extra, slowest) { return data.buckets.map(([lo, hi]) => link(lo, hi, extra, slowest)); }

function traceCharts() {
  const n = data.buckets.length;
  const ok = (i) => data.traces[i] - data.errors[i];
  draw("chart-volume", { ...base("Traces"), series: [
    { name: "OK", type: "bar", stack: "t", data: pairs(ok), links: bucketLinks("trace.status = 'OK'") },
    { name: "Error", type: "bar", stack: "t", data: pairs((i) => data.errors[i]), links: bucketLinks("trace.status = 'ERROR'"), itemStyle: { color: "#d4380d" } },
  ] }, n);
  const rate = (i) => (data.traces[i] ? round((100 * data.errors[i]) / data.traces[i], 2) : null);
  draw("chart-errors", { ...base("Error rate (%)"), series: [
    { name: "Error rate (%)", type: "line", data: pairs(rate), links: bucketLinks("trace.status = 'ERROR'"), connectNulls: false },
  ] }, n);
  const latency = (key) => ({
    name: key, type: "line", data: pairs((i) => round(data[key][i], 1)), connectNulls: false,
    links: data.buckets.map(([lo, hi], i) => (data[key][i] === null ? null
      : link(lo, hi, `execution_time_ms >= ${Math.floor(data[key][i])}`, true))),
  });
  draw("chart-latency", { ...base("Latency (ms)"), series: ["p50", "p90", "p99"].map(latency) }, n);
  draw("chart-tokens", { ...base("Tokens"), series: [
    { name: "Input", type: "bar", stack: "k", data: pairs((i) => data.input_tokens[i]), links: bucketLinks("") },
    { name: "Output", type: "bar", stack: "k", data: pairs((i) => data.output_tokens[i]), links: bucketLinks("") },
  ] }, n);
  draw("chart-cost", { ...base("Cost (USD)"), series: [
    { name: "Cost (USD)", type: "bar", data: pairs((i) => round(data.cost[i], 6)), links: bucketLinks("") },
  ] }, n);
}

function scoreCharts() {
  data.scores.forEach((score, k) => {
    const means = score.points.map(([lo, , , mean]) => [lo, round(mean, 4)]);
    const counts = score.points.map(([lo, , count]) => [lo, count]);
    const links = score.points.map(([lo, hi]) => link(lo, hi, score.clause));
    const option = base(score.name);
    option.yAxis = [{ type: "value", scale: true }, { type: "value", splitLine: { show: false } }];
    option.series = [
      { name: "Mean", type: "line", data: means, links, connectNulls: false },
      { name: "Values", type: "bar", yAxisIndex: 1, data: counts, links, itemStyle: { opacity: 0.35 } },
    ];
    draw(`chart-score-${k}`, option, score.points.length);
  });
}

function toolChart() {
  const series = data.tools.map((tool) => ({
    name: tool.name, type: "bar", stack: "tools",
    data: tool.points.map(([lo, , calls]) => [lo, calls]),
    links: tool.points.map(([lo, hi]) => link(lo, hi, tool.clause)),
  }));
  draw("chart-tools", { ...base("Tool calls"), series }, series.reduce((n, s) => n + s.data.length, 0));
}

function drawAll() {
  for (const chart of charts.values()) chart.dispose();
  charts.clear();
  traceCharts();
  scoreCharts();
  if (data.tools.length) toolChart();
  const all = document.getElementById("overview-charts");
  if (all) all.dataset.drawnMs = String(Math.round(performance.now()));
}

if (data) {
  drawAll();
  document.addEventListener("heron:theme", drawAll);
  addEventListener("resize", () => { for (const chart of charts.values()) chart.resize(); });
}
