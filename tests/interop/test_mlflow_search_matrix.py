"""Every search's field kinds against every comparator, asked by MLflow 3.17.2's client of a
Heron server, answer as MLflow's own server answered them (search_matrix/mlflow-3.17.2.json,
recorded by scripts/record-mlflow-search), except Heron's listed extensions and differences."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent / "search_matrix"
sys.path.insert(0, str(HERE))
from cells import cells  # noqa: E402
from heron_own import DIFFERENCES, EXTENSIONS, expected  # noqa: E402
from table import markdown  # noqa: E402

RECORDED: dict[str, Any] = json.loads((HERE / "mlflow-3.17.2.json").read_text())
DOC = Path(__file__).resolve().parents[2] / "docs" / "mlflow-compatibility.md"
RunMlflow = Callable[..., Any]


def test_the_recording_covers_every_cell_and_heron_lists_only_real_cells() -> None:
    ids = {cell for cell, _, _ in cells()}
    assert set(RECORDED) == ids, "re-record: scripts/record-mlflow-search"
    assert not (set(EXTENSIONS) | set(DIFFERENCES)) - ids
    for cell in EXTENSIONS:
        assert not isinstance(RECORDED[cell], list) or cell.startswith("logged_models:"), cell
    for cell in DIFFERENCES:
        assert isinstance(RECORDED[cell], list), cell


def test_the_compatibility_doc_shows_the_matrix() -> None:
    text = DOC.read_text()
    found = re.search(r"<!-- search-matrix -->\n(.*?)<!-- /search-matrix -->", text, re.S)
    assert found, f"{DOC} lacks the <!-- search-matrix --> block"
    assert found.group(1) == markdown(RECORDED), (
        "docs/mlflow-compatibility.md's search matrix is stale: put this between its "
        "<!-- search-matrix --> markers:\n\n" + markdown(RECORDED)
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    "live_server",
    ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
    indirect=True,
)
def test_every_cell_answers_as_mlflow_does(live_server: str, run_mlflow: RunMlflow) -> None:
    answers = run_mlflow(
        f"""
import runpy, sys
sys.argv = ["driver.py", {live_server!r}]
runpy.run_path({str(HERE / "driver.py")!r}, run_name="__main__")
""",
        MLFLOW_HTTP_REQUEST_MAX_RETRIES="0",
    )
    wrong = []
    for cell, _, _ in cells():
        want = expected(cell, RECORDED[cell])
        got = answers[cell]
        if isinstance(got, str):
            got = "refused" if got == "refused INVALID_PARAMETER_VALUE" else got
        if got != want:
            wrong.append(f"{cell}: want {want}, got {got}")
    assert not wrong, f"{len(wrong)} cells differ:\n" + "\n".join(wrong)
