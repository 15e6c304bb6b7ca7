"""The views MLflow users look for, in a real browser over data the mlflow 3.17.2 client
logged: an experiment's chart view (a chart per metric with each run a series, axes fitted to
the data, parallel coordinates and a scatter whose labels fit), the runs table's "Chart
selected", the compare page's breadcrumb, the traces list's assessment columns, the trace
page's user and session, and an error said once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.interop.conftest import run_mlflow_code
from tests.ui.conftest import Demo

pytestmark = pytest.mark.slow

MLFLOW_SIDE = """
import json
import mlflow

exp = mlflow.set_experiment("charted").experiment_id
ids = {}
for name, acc, lr in (("first-run", 0.95, "0.1"), ("second-run", 0.97, "0.01"),
                      ("a-run-with-a-rather-long-name", 0.93, "0.001")):
    with mlflow.start_run(run_name=name) as run:
        mlflow.log_param("lr", lr)
        mlflow.log_metric("accuracy", acc)
        for step in range(5):
            mlflow.log_metric("loss", 1.0 / (step + 1) + acc, step=step)
    ids[name] = run.info.run_id

@mlflow.trace(name="assessed")
def assessed(q):
    mlflow.update_current_trace(user="ann", session_id="s-9")
    return "fine"

assessed("ok?")

@mlflow.trace(name="failing")
def failing():
    raise ValueError("boom at the end")

try:
    failing()
except ValueError:
    pass
mlflow.flush_trace_async_logging()
traces = mlflow.search_traces(locations=[exp], return_type="list")
by_name = {t.info.tags["mlflow.traceName"]: t.info.trace_id for t in traces}
mlflow.log_feedback(trace_id=by_name["assessed"], name="correct", value=True)
mlflow.log_expectation(trace_id=by_name["assessed"], name="answer", value="42")
print(json.dumps({"experiment_id": exp, "runs": ids, "traces": by_name}))
"""

SERIES = "el => echarts.getInstanceByDom(el).getOption().series.length"
Y_EXTENT = (
    "el => echarts.getInstanceByDom(el).getModel().getComponent('yAxis').axis.scale.getExtent()"
)


@pytest.fixture(scope="module")
def logged(demo: Demo, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    seen: dict[str, Any] = run_mlflow_code(
        MLFLOW_SIDE, tmp_path_factory.mktemp("views"), MLFLOW_TRACKING_URI=demo.url
    )
    return seen


def _ready(page: Any, selector: str) -> Any:
    page.wait_for_selector(f"{selector}[data-ready='1']")
    return page.locator(selector)


def test_the_experiment_chart_view(demo: Demo, logged: dict[str, Any], page: Any,
                                   screenshot: Any) -> None:  # fmt: skip
    page.goto(f"{demo.url}/experiments/{logged['experiment_id']}/runs")
    page.locator("#tab-charts").click()
    page.wait_for_url(f"{demo.url}/experiments/{logged['experiment_id']}/charts")
    accuracy = _ready(page, ".chart[data-metric='accuracy']")
    assert accuracy.evaluate(SERIES) == 3
    low, high = accuracy.evaluate(Y_EXTENT)
    assert 0.9 <= low < 0.93
    assert 0.97 < high <= 1.0
    loss = _ready(page, ".chart[data-metric='loss']")
    assert loss.evaluate(SERIES) == 3
    _ready(page, "#parallel")
    scatter = _ready(page, "#scatter")
    right = scatter.evaluate("el => echarts.getInstanceByDom(el).getOption().grid[0].right")
    assert right >= 30 + 7 * 24  # room for the longest run name's label
    screenshot(page, "experiment-charts")


def test_chart_selected_and_the_compare_breadcrumb(
    demo: Demo, logged: dict[str, Any], page: Any
) -> None:
    runs = logged["runs"]
    page.goto(f"{demo.url}/experiments/{logged['experiment_id']}/runs")
    for name in ("first-run", "second-run"):
        page.locator(f"input[name='run_id'][value='{runs[name]}']").check()
    page.locator("#chart-button").click()
    page.wait_for_url(f"**/experiments/{logged['experiment_id']}/charts?runs=*")
    assert _ready(page, ".chart[data-metric='accuracy']").evaluate(SERIES) == 2
    assert "2 runs chosen" in page.locator("#charts-runs").inner_text()
    page.goto(f"{demo.url}/compare?runs={runs['first-run']}&runs={runs['second-run']}")
    crumb = page.locator("#crumb-experiment")
    assert crumb.inner_text() == "charted"
    assert crumb.get_attribute("href") == f"/experiments/{logged['experiment_id']}"


def test_traces_list_and_trace_page(demo: Demo, logged: dict[str, Any], page: Any) -> None:
    page.goto(f"{demo.url}/experiments/{logged['experiment_id']}/traces")
    headers = page.locator("#traces-table th.assessment-column")
    assert headers.evaluate_all("hs => hs.map(h => h.dataset.name)") == ["correct", "answer"]
    row = page.locator(f"tr[data-trace-id='{logged['traces']['assessed']}']")
    assert row.locator("td.assessment-cell[data-name='correct']").inner_text() == "✓ good"
    assert row.locator("td.assessment-cell[data-name='answer']").inner_text() == "42"
    row.locator("td.name a").click()
    assert page.locator("#trace-user").inner_text() == "ann"
    session = page.locator("#trace-session")
    assert session.inner_text() == "s-9"
    assert session.get_attribute("href").endswith("/sessions/s-9")
    page.goto(f"{demo.url}/traces/{logged['traces']['failing']}")
    errors = page.locator("#span-errors").inner_text()
    assert errors.count("boom at the end") == 1
    assert "ValueError" in errors


def test_one_value_fills_its_chart(demo: Demo, logged: dict[str, Any], page: Any,
                                   tmp_path: Path) -> None:  # fmt: skip
    run = logged["runs"]["first-run"]
    page.goto(f"{demo.url}/runs/{run}/charts")
    low, high = _ready(page, ".chart[data-metric='accuracy']").evaluate(Y_EXTENT)
    assert 0.9 <= low < 0.95 < high <= 1.0
