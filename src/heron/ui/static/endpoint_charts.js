// A serving endpoint's charts (ECharts): requests per second, latency percentiles and error
// rate per served version, per minute over the last hour, from the data the page carries.

const TITLES = { rate: "Requests per second", latency: "Latency (ms)", errors: "Error rate (%)" };

function dark() {
  const theme = document.documentElement.dataset.theme;
  if (theme) return theme === "dark";
  return matchMedia("(prefers-color-scheme: dark)").matches;
}

function option(kind, lines, window) {
  return {
    backgroundColor: "transparent",
    animation: false,
    title: { text: TITLES[kind], left: 8, top: 4, textStyle: { fontSize: 13 } },
    tooltip: { trigger: "axis", confine: true },
    legend: { type: "scroll", bottom: 6, left: 8, right: 8 },
    grid: { left: 56, right: 20, top: 36, bottom: 56 },
    xAxis: { type: "time", min: window[0], max: window[1] },
    yAxis: { type: "value", min: 0 },
    series: Object.entries(lines).map(([name, data]) => ({
      name, type: "line", data, showSymbol: data.length < 3, connectNulls: false,
    })),
  };
}

function draw() {
  const box = document.getElementById("endpoint-charts");
  if (!box || typeof echarts === "undefined") return;
  const series = JSON.parse(box.dataset.series);
  for (const el of box.querySelectorAll(".chart")) {
    const chart = echarts.init(el, dark() ? "dark" : null, { renderer: "canvas" });
    chart.setOption(option(el.dataset.kind, series[el.dataset.kind] || {}, series.window));
    el.dataset.drawn = "true";
    addEventListener("resize", () => chart.resize());
  }
}

if (document.readyState === "complete") draw();
else addEventListener("load", draw);
