"""Run rules, run against SQLite and PostgreSQL through the real stores."""

from __future__ import annotations

import base64
import json
import math
import threading

import pytest

from heron.entities import (
    Dataset,
    DatasetInput,
    InputTag,
    LifecycleStage,
    Metric,
    Param,
    RunStatus,
    RunTag,
)
from heron.errors import InvalidParameter, NotFound
from heron.services import ExperimentService, RunService

T0 = 1_700_000_000_000


@pytest.fixture
def experiment_id(experiments: ExperimentService) -> str:
    return experiments.create_experiment("runs")


@pytest.fixture
def run_id(runs: RunService, experiment_id: str) -> str:
    return runs.create_run(experiment_id, run_name="r", start_time=T0).info.run_id


def test_create_run_sets_name_tag_status_and_artifact_uri(
    runs: RunService, experiment_id: str
) -> None:
    run = runs.create_run(experiment_id, run_name="first", start_time=T0, tags={"a": "b"})
    got = runs.get_run(run.info.run_id)
    assert got.info.run_name == "first"
    assert got.info.status is RunStatus.RUNNING
    assert got.info.start_time == T0
    assert got.info.end_time is None
    assert got.info.artifact_uri == f"mlflow-artifacts:/{experiment_id}/{run.info.run_id}/artifacts"
    assert got.data.tags == {"a": "b", "mlflow.runName": "first"}


def test_run_without_name_gets_a_generated_one(runs: RunService, experiment_id: str) -> None:
    run = runs.create_run(experiment_id)
    assert run.info.run_name
    assert runs.get_run(run.info.run_id).data.tags["mlflow.runName"] == run.info.run_name


def test_create_run_in_missing_or_deleted_experiment_is_refused(
    runs: RunService, experiments: ExperimentService, experiment_id: str
) -> None:
    with pytest.raises(NotFound):
        runs.create_run("99999")
    experiments.delete_experiment(experiment_id)
    with pytest.raises(InvalidParameter, match="active"):
        runs.create_run(experiment_id)


def test_params_are_immutable_but_same_value_is_fine(runs: RunService, run_id: str) -> None:
    runs.log_param(run_id, "lr", "0.1")
    runs.log_param(run_id, "lr", "0.1")
    with pytest.raises(InvalidParameter, match="Changing param values is not allowed"):
        runs.log_param(run_id, "lr", "0.2")
    assert runs.get_run(run_id).data.params == {"lr": "0.1"}


def test_a_failing_batch_writes_nothing(runs: RunService, run_id: str) -> None:
    runs.log_param(run_id, "p", "1")
    with pytest.raises(InvalidParameter):
        runs.log_batch(
            run_id,
            metrics=[Metric(key="m", value=1.0, timestamp=T0)],
            params=[Param(key="p", value="2")],
            tags=[RunTag(key="t", value="x")],
        )
    data = runs.get_run(run_id).data
    assert data.metrics == []
    assert "t" not in data.tags


def test_latest_metric_is_highest_step_then_latest_timestamp(runs: RunService, run_id: str) -> None:
    runs.log_metric(run_id, "m", 10.0, T0, step=5)
    runs.log_metric(run_id, "m", 20.0, T0 + 1000, step=2)
    runs.log_metric(run_id, "dup", 1.0, T0, step=7)
    runs.log_metric(run_id, "dup", 2.0, T0 + 5, step=7)
    latest = {m.key: m.value for m in runs.get_run(run_id).data.metrics}
    assert latest == {"m": 10.0, "dup": 2.0}
    assert len(runs.get_metric_history(run_id, "dup")) == 2


def test_nan_and_infinities_round_trip(runs: RunService, run_id: str) -> None:
    runs.log_batch(
        run_id,
        metrics=[
            Metric(key="nan", value=math.nan, timestamp=T0),
            Metric(key="inf", value=math.inf, timestamp=T0),
            Metric(key="ninf", value=-math.inf, timestamp=T0),
        ],
    )
    latest = {m.key: m.value for m in runs.get_run(run_id).data.metrics}
    assert math.isnan(latest["nan"])
    assert latest["inf"] == math.inf
    assert latest["ninf"] == -math.inf
    (point,) = runs.get_metric_history(run_id, "nan")
    assert math.isnan(point.value)


# Doubles whose shortest text is short, long or subnormal, the extremes, and -0.0.
AWKWARD_VALUES = [0.1, 1 / 3, 1e-7, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308,
                  -0.0, 0.07, 123456789.0, -2.5e-300, 1.0]  # fmt: skip
AWKWARD_TEXT = 'quote " backslash \\ newline \n tab \t nul-free \u00e9\u4e2d\U0001f600 </script>'


def test_latest_metrics_params_and_tags_read_back_exactly(runs: RunService, run_id: str) -> None:
    """The store hands a run's data over as JSON text it builds itself (JsonMetrics,
    JsonKeyValues): every double must read back as the very same double, int64 steps and
    timestamps as themselves, and any text unchanged."""
    points = [
        Metric(key=f"m{i}", value=value, timestamp=T0 + i, step=step)
        for i, (value, step) in enumerate(
            zip(AWKWARD_VALUES, [0, 1, -1, 2**63 - 1, -(2**63)] * 3, strict=False)
        )
    ]
    points.append(Metric(key="big-ts", value=2.0, timestamp=2**63 - 1, step=7))
    runs.log_batch(
        run_id,
        metrics=points,
        params=[Param(key="p", value=AWKWARD_TEXT), Param(key="empty", value="")],
        tags=[RunTag(key="t", value=AWKWARD_TEXT)],
    )
    data = runs.get_run(run_id).data
    got = {m.key: m for m in data.metrics}
    assert len(got) == len(points)
    for point in points:
        read = got[point.key]
        assert (read.value, read.timestamp, read.step) == (point.value, point.timestamp, point.step)
        assert math.copysign(1.0, read.value) == math.copysign(1.0, point.value)  # -0.0 stays
    assert data.params == {"p": AWKWARD_TEXT, "empty": ""}
    assert data.tags["t"] == AWKWARD_TEXT


def test_a_run_with_no_data_has_empty_metrics_params_and_tags(
    runs: RunService, experiment_id: str
) -> None:
    run = runs.create_run(experiment_id, run_name="bare", start_time=T0)
    runs.delete_tag(run.info.run_id, "mlflow.runName")
    data = runs.get_run(run.info.run_id).data
    assert (list(data.metrics), dict(data.params), dict(data.tags)) == ([], {}, {})
    assert not data.metrics
    assert not data.params
    assert not data.tags


def test_identical_point_logged_twice_is_kept_once(runs: RunService, run_id: str) -> None:
    runs.log_metric(run_id, "m", 1.0, T0, step=1)
    runs.log_metric(run_id, "m", 1.0, T0, step=1)
    assert len(runs.get_metric_history(run_id, "m")) == 1


@pytest.mark.parametrize(
    ("metrics", "params", "tags", "what"),
    [
        (1001, 0, 0, "1000 metrics"),
        (0, 101, 0, "100 params"),
        (0, 0, 101, "100 tags"),
        (950, 60, 0, "1000 metrics, params"),
    ],
    ids=["metrics", "params", "tags", "total"],
)
def test_batch_limits(
    runs: RunService, run_id: str, metrics: int, params: int, tags: int, what: str
) -> None:
    with pytest.raises(InvalidParameter, match=what):
        runs.log_batch(
            run_id,
            metrics=[Metric(key="m", value=1.0, timestamp=T0, step=i) for i in range(metrics)],
            params=[Param(key=f"p{i}", value="v") for i in range(params)],
            tags=[RunTag(key=f"t{i}", value="v") for i in range(tags)],
        )


@pytest.mark.parametrize(
    "metric",
    [
        Metric(key="m", value=1.0, timestamp=T0, step=1.5),  # type: ignore[arg-type]
        Metric(key="m", value=1.0, timestamp=T0, step=2**63),
        Metric(key="m", value=1.0, timestamp=-1),
        Metric(key="m", value="1", timestamp=T0),  # type: ignore[arg-type]
        Metric(key="../m", value=1.0, timestamp=T0),
        Metric(key="m" * 251, value=1.0, timestamp=T0),
    ],
    ids=[
        "float-step",
        "step-over-int64",
        "negative-timestamp",
        "string-value",
        "dotdot-key",
        "long-key",
    ],
)
def test_bad_metrics_are_refused_not_coerced(runs: RunService, run_id: str, metric: Metric) -> None:
    with pytest.raises(InvalidParameter):
        runs.log_batch(run_id, metrics=[metric])
    assert runs.get_run(run_id).data.metrics == []


def test_long_values_are_refused_not_truncated(runs: RunService, run_id: str) -> None:
    with pytest.raises(InvalidParameter, match="6000"):
        runs.log_param(run_id, "p", "x" * 6001)
    with pytest.raises(InvalidParameter, match="8000"):
        runs.set_tag(run_id, "t", "x" * 8001)
    runs.log_param(run_id, "p", "x" * 6000)
    assert runs.get_run(run_id).data.params["p"] == "x" * 6000


def test_keys_with_slashes_dots_dashes_and_spaces(runs: RunService, run_id: str) -> None:
    runs.log_metric(run_id, "train/loss-v2.final step", 1.0, T0)
    assert [m.key for m in runs.get_run(run_id).data.metrics] == ["train/loss-v2.final step"]


def test_update_run_status_end_time_and_name(runs: RunService, run_id: str) -> None:
    info = runs.update_run(run_id, status="FINISHED", end_time=T0 + 10, run_name="renamed")
    assert info.status is RunStatus.FINISHED
    assert info.end_time == T0 + 10
    run = runs.get_run(run_id)
    assert run.info.run_name == "renamed"
    assert run.data.tags["mlflow.runName"] == "renamed"
    with pytest.raises(InvalidParameter):
        runs.update_run(run_id, status="DONE")


def test_logging_to_deleted_run_is_refused_until_restored(runs: RunService, run_id: str) -> None:
    runs.delete_run(run_id)
    assert runs.get_run(run_id).info.lifecycle_stage is LifecycleStage.DELETED
    with pytest.raises(InvalidParameter, match="active"):
        runs.log_metric(run_id, "m", 1.0, T0)
    runs.restore_run(run_id)
    runs.log_metric(run_id, "m", 1.0, T0)


def test_missing_run_is_not_found(runs: RunService) -> None:
    missing = "0123456789abcdef0123456789abcdef"
    with pytest.raises(NotFound):
        runs.get_run(missing)
    with pytest.raises(NotFound):
        runs.log_metric(missing, "m", 1.0, T0)
    with pytest.raises(NotFound):
        runs.get_metric_history(missing, "m")


def test_delete_tag(runs: RunService, run_id: str) -> None:
    runs.set_tag(run_id, "t", "v")
    runs.delete_tag(run_id, "t")
    assert "t" not in runs.get_run(run_id).data.tags
    with pytest.raises(NotFound):
        runs.delete_tag(run_id, "t")


def test_metric_history_pages_cover_every_point_once(runs: RunService, run_id: str) -> None:
    runs.log_batch(
        run_id,
        metrics=[Metric(key="m", value=float(i), timestamp=T0 + i, step=i) for i in range(25)],
    )
    seen, token = [], None
    while True:
        page = runs.get_metric_history(run_id, "m", max_results=7, page_token=token)
        seen.extend(m.step for m in page)
        token = page.next_page_token
        if token is None:
            break
    assert seen == list(range(25))


@pytest.mark.parametrize(
    "position",
    [
        [2**63, 0, 0.0, False],
        [0, 2**63, 0.0, False],
        [0, 0, 10**400, False],
        [0, 0, 0.0, 1],
        [True, 0, 0.0, False],
        [0, True, 0.0, False],
        [0, 0, True, False],
    ],
    ids=[
        "step-over-int64",
        "timestamp-over-int64",
        "value-over-double",
        "is-nan-not-bool",
        "step-bool",
        "timestamp-bool",
        "value-bool",
    ],
)
def test_a_forged_history_token_is_invalid(
    runs: RunService, run_id: str, position: list[object]
) -> None:
    runs.log_metric(run_id, "m", 1.0, T0)
    token = base64.urlsafe_b64encode(json.dumps(position).encode()).decode()
    with pytest.raises(InvalidParameter, match="page_token"):
        runs.get_metric_history(run_id, "m", max_results=7, page_token=token)


def test_sampled_history_keeps_ends_and_extremes(runs: RunService, run_id: str) -> None:
    values = [float(i % 10) for i in range(1000)]
    values[503] = 1000.0
    for start in range(0, 1000, 500):
        runs.log_batch(
            run_id,
            metrics=[
                Metric(key="m", value=values[i], timestamp=T0 + i, step=i)
                for i in range(start, start + 500)
            ],
        )
    sampled = runs.get_metric_history_bulk_interval([run_id], "m", max_results=50)
    steps = [p.metric.step for p in sampled]
    assert 50 <= len(steps) <= 52
    assert steps[0] == 0
    assert steps[-1] == 999
    assert 503 in steps
    ranged = runs.get_metric_history_bulk_interval(
        [run_id], "m", max_results=10, start_step=100, end_step=200
    )
    assert all(100 <= p.metric.step <= 200 for p in ranged)
    with pytest.raises(InvalidParameter):
        runs.get_metric_history_bulk_interval([run_id], "m", max_results=2501)


def test_sampled_history_keeps_every_point_of_a_kept_step_and_skips_nan_extremes(
    runs: RunService, run_id: str
) -> None:
    points = [Metric(key="m", value=float(i), timestamp=T0 + i, step=i) for i in range(300)]
    points.append(Metric(key="m", value=7.5, timestamp=T0 + 10_000, step=0))  # step 0 again
    points[151] = Metric(key="m", value=-5.0, timestamp=T0 + 151, step=151)
    points[152] = Metric(key="m", value=math.nan, timestamp=T0 + 152, step=152)
    runs.log_batch(run_id, metrics=points)

    sampled = [
        p.metric for p in runs.get_metric_history_bulk_interval([run_id], "m", max_results=10)
    ]

    assert [(m.step, m.value) for m in sampled if m.step == 0] == [(0, 0.0), (0, 7.5)]
    assert (151, -5.0) in [(m.step, m.value) for m in sampled]  # the smallest value
    assert sampled[-1].step == 299  # the largest value and the last step
    assert 152 not in [m.step for m in sampled]
    assert [m.step for m in sampled] == sorted(m.step for m in sampled)


def test_log_inputs_links_datasets_with_context(runs: RunService, run_id: str) -> None:
    dataset = Dataset(
        name="train",
        digest="abc123",
        source_type="local",
        source="/d.csv",
        schema='{"x": "double"}',
    )
    runs.log_inputs(
        run_id,
        [DatasetInput(dataset=dataset, tags=[InputTag(key="mlflow.data.context", value="train")])],
    )
    runs.log_inputs(run_id, [DatasetInput(dataset=dataset)])  # logging it again is harmless
    (got,) = runs.get_run(run_id).dataset_inputs
    assert got.dataset == dataset
    assert [(t.key, t.value) for t in got.tags] == [("mlflow.data.context", "train")]


def test_concurrent_writers_all_land(runs: RunService, run_id: str) -> None:
    def write(thread: int) -> None:
        for i in range(20):
            runs.log_metric(run_id, f"t{thread}", float(i), T0 + i, step=i)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for n in range(8):
        assert [m.step for m in runs.get_metric_history(run_id, f"t{n}")] == list(range(20))


def test_one_failing_writer_in_a_commit_group_does_not_undo_the_others(
    runs: RunService, run_id: str
) -> None:
    runs.log_param(run_id, "fixed", "1")
    errors: list[Exception] = []

    def good(n: int) -> None:
        runs.log_metric(run_id, f"g{n}", 1.0, T0)

    def bad() -> None:
        try:
            runs.log_param(run_id, "fixed", "2")
        except InvalidParameter as exc:
            errors.append(exc)

    threads = [threading.Thread(target=good, args=(n,)) for n in range(10)]
    threads.insert(5, threading.Thread(target=bad))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(errors) == 1
    assert {m.key for m in runs.get_run(run_id).data.metrics} == {f"g{n}" for n in range(10)}


def test_dataset_summaries_list_each_dataset_and_context_once(
    runs: RunService, experiment_id: str, run_id: str
) -> None:
    train = Dataset(name="train", digest="d1", source_type="local", source="/t.csv")
    context = [InputTag(key="mlflow.data.context", value="training")]
    other_run = runs.create_run(experiment_id).info.run_id
    for rid in (run_id, other_run):
        runs.log_inputs(rid, [DatasetInput(dataset=train, tags=context)])
    summaries = runs.search_dataset_summaries([experiment_id])
    assert [(s.name, s.digest, s.context) for s in summaries] == [("train", "d1", "training")]
    assert runs.search_dataset_summaries(["0"]) == []
    with pytest.raises(InvalidParameter):
        runs.search_dataset_summaries([str(i) for i in range(21)])
