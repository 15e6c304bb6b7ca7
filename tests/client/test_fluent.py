"""The fluent API: run lifecycle, nesting, statuses, and embedded mode on $HERON_HOME."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import heron
from heron.entities import RunStatus
from heron.errors import InvalidParameter, InvalidState, NotFound
from heron.settings import Settings

pytestmark = pytest.mark.usefixtures("home")


def test_embedded_mode_writes_to_heron_home_and_a_server_there_shows_the_runs(
    home: Path,
    serve_settings: Any,
) -> None:
    heron.set_experiment("embedded")
    with heron.start_run(run_name="offline") as run:
        heron.log_param("lr", 0.01)
        heron.log_metric("loss", 0.5, step=3)

    assert (home / "heron.db").exists()
    assert heron.get_tracking_uri() == str(home)
    with serve_settings(Settings.for_home(home)) as url, heron.HeronClient(url) as client:
        experiment = client.get_experiment_by_name("embedded")
        assert experiment is not None
        (served,) = client.search_runs(experiment.experiment_id)
    assert served.info.run_id == run.info.run_id
    assert served.info.status == RunStatus.FINISHED
    assert dict(served.data.params) == {"lr": "0.01"}
    assert [(m.key, m.value, m.step) for m in served.data.metrics] == [("loss", 0.5, 3)]


def test_leaving_the_with_block_finishes_the_run() -> None:
    with heron.start_run() as run:
        assert heron.active_run() is run

    info = heron.get_run(run.info.run_id).info
    assert heron.active_run() is None
    assert info.status == RunStatus.FINISHED
    assert info.end_time is not None
    last = heron.last_active_run()
    assert last is not None
    assert last.info.run_id == run.info.run_id


def test_an_exception_in_the_with_block_fails_the_run_and_propagates() -> None:
    with pytest.raises(ZeroDivisionError), heron.start_run() as run:
        _ = 1 / 0

    assert heron.get_run(run.info.run_id).info.status == RunStatus.FAILED
    assert heron.active_run() is None


def test_nested_run_is_tagged_with_its_parent_which_becomes_active_again() -> None:
    with heron.start_run() as parent:
        with heron.start_run(nested=True, run_name="child") as child:
            assert heron.active_run() is child
        assert heron.active_run() is parent

    child_run = heron.get_run(child.info.run_id)
    assert child_run.data.tags["mlflow.parentRunId"] == parent.info.run_id
    assert child_run.info.run_name == "child"
    assert "mlflow.parentRunId" not in heron.get_run(parent.info.run_id).data.tags


def test_starting_a_second_run_without_nested_raises() -> None:
    with heron.start_run(), pytest.raises(InvalidState, match="nested=True"):
        heron.start_run()


def test_new_runs_carry_user_and_source_tags() -> None:
    with heron.start_run(tags={"team": "a"}, description="notes") as run:
        pass

    tags = heron.get_run(run.info.run_id).data.tags
    assert tags["mlflow.source.type"] == "LOCAL"
    assert tags["mlflow.source.name"]
    assert tags["mlflow.user"] == run.info.user_id
    assert tags["team"] == "a"
    assert tags["mlflow.note.content"] == "notes"


def test_logging_without_an_active_run_starts_one() -> None:
    heron.log_metric("m", 1.0)
    run = heron.active_run()
    assert run is not None

    heron.end_run("KILLED")

    assert heron.active_run() is None
    assert heron.get_run(run.info.run_id).info.status == RunStatus.KILLED


def test_params_metrics_and_tags_are_logged_like_mlflow() -> None:
    with heron.start_run() as run:
        heron.log_param("n", 3)
        heron.log_params({"flag": True, "none": None})
        heron.log_metric("acc", 0.5, step=1, timestamp=1000)
        heron.log_metrics({"acc": 0.75, "f1": 0.5}, step=2)
        heron.set_tag("t", 1.5)
        heron.set_tags({"u": "x", "v": "y"})
        heron.delete_tag("v")

    data = heron.get_run(run.info.run_id).data
    assert dict(data.params) == {"n": "3", "flag": "True", "none": "None"}
    assert {m.key: m.value for m in data.metrics} == {"acc": 0.75, "f1": 0.5}
    assert (data.tags["t"], data.tags["u"]) == ("1.5", "x")
    assert "v" not in data.tags
    history = heron.get_metric_history(run.info.run_id, "acc")
    assert [(m.step, m.value) for m in history] == [(1, 0.5), (2, 0.75)]


def test_changing_a_param_raises_invalid_parameter() -> None:
    with heron.start_run():
        heron.log_param("lr", 1)
        with pytest.raises(InvalidParameter):
            heron.log_param("lr", 2)


def test_set_experiment_creates_it_once_and_new_runs_go_there() -> None:
    first = heron.set_experiment("exp")
    again = heron.set_experiment("exp")
    with heron.start_run() as run:
        pass

    assert first.experiment_id == again.experiment_id != "0"
    assert run.info.experiment_id == first.experiment_id
    assert heron.get_experiment_by_name("exp") == heron.get_experiment(first.experiment_id)
    assert heron.get_experiment_by_name("missing") is None


def test_set_experiment_refuses_a_deleted_experiment() -> None:
    experiment_id = heron.create_experiment("doomed")
    heron.delete_experiment(experiment_id)
    with pytest.raises(InvalidParameter, match="deleted"):
        heron.set_experiment("doomed")
    heron.restore_experiment(experiment_id)
    assert heron.set_experiment(experiment_id=experiment_id).name == "doomed"


def test_set_experiment_by_missing_id_raises_not_found() -> None:
    with pytest.raises(NotFound):
        heron.set_experiment(experiment_id="424242")


def test_resuming_a_run_by_id_sets_it_running_again() -> None:
    with heron.start_run() as run:
        heron.log_metric("m", 1.0, step=0)
    with heron.start_run(run_id=run.info.run_id) as resumed:
        assert heron.get_run(run.info.run_id).info.status == RunStatus.RUNNING
        heron.log_metric("m", 2.0, step=1)

    assert resumed.info.run_id == run.info.run_id
    assert heron.get_run(run.info.run_id).info.status == RunStatus.FINISHED
    assert len(heron.get_metric_history(run.info.run_id, "m")) == 2


def test_search_runs_returns_runs_or_mlflow_shaped_dataframe() -> None:
    heron.set_experiment("search")
    for i in range(3):
        with heron.start_run(run_name=f"r{i}"):
            heron.log_metric("acc", i / 10)
            heron.log_param("i", i)

    runs = heron.search_runs(filter_string="metrics.acc > 0.05", order_by=["metrics.acc ASC"])
    frame = heron.search_runs(order_by=["metrics.acc DESC"], output_format="pandas")

    assert [r.info.run_name for r in runs] == ["r1", "r2"]
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns[:6]) == [
        "run_id", "experiment_id", "status", "artifact_uri", "start_time", "end_time",
    ]  # fmt: skip
    assert {"metrics.acc", "params.i", "tags.mlflow.runName"} <= set(frame.columns)
    assert list(frame["params.i"]) == ["2", "1", "0"]
    assert isinstance(frame["start_time"].dtype, pd.DatetimeTZDtype)
    assert str(frame["start_time"].dtype.tz) == "UTC"


def test_search_runs_by_experiment_name_and_deleted_runs() -> None:
    heron.set_experiment("named")
    with heron.start_run() as run:
        pass
    heron.delete_run(run.info.run_id)
    assert heron.search_runs(experiment_names=["named"]) == []
    heron.restore_run(run.info.run_id)
    assert [r.info.run_id for r in heron.search_runs(experiment_names=["named"])] == [
        run.info.run_id
    ]


def test_search_experiments_returns_all_pages() -> None:
    for i in range(3):
        heron.create_experiment(f"e{i}")
    names = [e.name for e in heron.search_experiments(filter_string="name LIKE 'e%'")]
    assert sorted(names) == ["e0", "e1", "e2"]


def test_log_input_records_a_pandas_dataset_with_its_context() -> None:
    df = pd.DataFrame({"a": [1, 2], "label": [0, 1]})
    dataset = heron.data.from_pandas(df, name="tiny", targets="label")
    with heron.start_run() as run:
        heron.log_input(dataset, context="training", tags={"split": "train"})

    (logged,) = heron.get_run(run.info.run_id).dataset_inputs
    assert logged.dataset.name == "tiny"
    assert logged.dataset.digest == dataset.digest
    assert logged.dataset.source_type == "code"
    assert json.loads(logged.dataset.profile) == {"num_rows": 2, "num_elements": 4}
    assert {(t.key, t.value) for t in logged.tags} == {
        ("mlflow.data.context", "training"),
        ("split", "train"),
    }


def test_tracking_uri_comes_from_set_tracking_uri_then_heron_then_mlflow_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://mlflow.example:5000")
    assert heron.get_tracking_uri() == "http://mlflow.example:5000"
    monkeypatch.setenv("HERON_TRACKING_URI", str(tmp_path / "elsewhere"))
    assert heron.get_tracking_uri() == str(tmp_path / "elsewhere")
    heron.set_tracking_uri(tmp_path / "explicit")
    assert heron.get_tracking_uri() == str(tmp_path / "explicit")

    with heron.start_run():
        pass
    assert (tmp_path / "explicit" / "heron.db").exists()


def test_a_run_left_active_is_finished_when_the_interpreter_exits(home: Path) -> None:
    code = "import heron; heron.log_metric('m', 1.0); print(heron.active_run().info.run_id)"
    env = {**os.environ, "HERON_HOME": str(home)}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )

    assert done.returncode == 0, done.stderr
    run = heron.get_run(done.stdout.strip())
    assert run.info.status == RunStatus.FINISHED
    assert run.info.end_time is not None
