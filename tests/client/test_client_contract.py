"""One suite, two backends: HeronClient in process (SQLite) and over HTTP (a real server)."""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

import heron
from heron import HeronClient
from heron.entities import (
    DatasetInput,
    InputTag,
    LifecycleStage,
    Metric,
    Param,
    RunStatus,
    RunTag,
    ViewType,
)
from heron.errors import AlreadyExists, InvalidParameter, NotFound


@pytest.fixture(
    params=[
        pytest.param("local", id="local-sqlite"),
        pytest.param("local-postgresql", id="local-postgresql", marks=pytest.mark.postgres),
        pytest.param("http", id="http"),
    ]
)
def client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[HeronClient]:
    """The same client API in process on a data directory and on PostgreSQL, and over HTTP."""
    if request.param == "local-postgresql":
        postgres = request.getfixturevalue("postgres_server")
        uri = postgres.create_database()
        try:
            with HeronClient(uri) as c:
                yield c
        finally:
            postgres.drop_database(uri)
        return
    if request.param == "local":
        uri = str(tmp_path / "data")
    else:
        uri = request.getfixturevalue("live_server")
    with HeronClient(uri) as c:
        yield c


def _name() -> str:
    return f"exp-{uuid.uuid4().hex[:8]}"


def test_create_experiment_then_get_it_by_id_and_name(client: HeronClient) -> None:
    name = _name()
    experiment_id = client.create_experiment(name, tags={"team": "vision", "n": 3})

    by_id = client.get_experiment(experiment_id)
    by_name = client.get_experiment_by_name(name)

    assert by_id == by_name
    assert by_id.name == name
    assert by_id.lifecycle_stage == LifecycleStage.ACTIVE
    assert by_id.artifact_location == f"mlflow-artifacts:/{experiment_id}"
    assert dict(by_id.tags) == {"team": "vision", "n": "3"}


def test_get_experiment_by_name_returns_none_when_missing(client: HeronClient) -> None:
    assert client.get_experiment_by_name("no-such-experiment") is None


def test_get_missing_experiment_raises_not_found(client: HeronClient) -> None:
    with pytest.raises(NotFound):
        client.get_experiment("987654")


def test_create_experiment_with_a_taken_name_raises_already_exists(client: HeronClient) -> None:
    name = _name()
    client.create_experiment(name)
    with pytest.raises(AlreadyExists):
        client.create_experiment(name)


def test_rename_and_tag_experiment(client: HeronClient) -> None:
    experiment_id = client.create_experiment(_name())
    new_name = _name()
    client.rename_experiment(experiment_id, new_name)
    client.set_experiment_tag(experiment_id, "k", "v")
    client.set_experiment_tag(experiment_id, "gone", "x")
    client.delete_experiment_tag(experiment_id, "gone")

    experiment = client.get_experiment(experiment_id)

    assert experiment.name == new_name
    assert dict(experiment.tags) == {"k": "v"}


def test_delete_and_restore_experiment_moves_it_between_views(client: HeronClient) -> None:
    experiment_id = client.create_experiment(_name())

    client.delete_experiment(experiment_id)
    deleted = {e.experiment_id for e in client.search_experiments(ViewType.DELETED_ONLY)}
    active = {e.experiment_id for e in client.search_experiments(ViewType.ACTIVE_ONLY)}
    assert experiment_id in deleted
    assert experiment_id not in active
    assert client.get_experiment(experiment_id).lifecycle_stage == LifecycleStage.DELETED

    client.restore_experiment(experiment_id)
    assert client.get_experiment(experiment_id).lifecycle_stage == LifecycleStage.ACTIVE


def test_search_experiments_filters_by_name(client: HeronClient) -> None:
    prefix = _name()
    for suffix in ("a", "b", "c"):
        client.create_experiment(f"{prefix}-{suffix}")

    page = client.search_experiments(
        filter_string=f"name LIKE '{prefix}-%'", order_by=["name DESC"], max_results=2
    )
    rest = client.search_experiments(
        filter_string=f"name LIKE '{prefix}-%'",
        order_by=["name DESC"],
        max_results=2,
        page_token=page.next_page_token,
    )

    assert [e.name for e in page] == [f"{prefix}-c", f"{prefix}-b"]
    assert [e.name for e in rest] == [f"{prefix}-a"]
    assert rest.next_page_token is None


def test_create_run_is_running_with_its_tags(client: HeronClient) -> None:
    experiment_id = client.create_experiment(_name())

    run = client.create_run(experiment_id, tags={"mlflow.user": "ada", "k": 1}, run_name="r1")

    assert run.info.status == RunStatus.RUNNING
    assert run.info.run_name == "r1"
    assert run.info.user_id == "ada"
    assert run.info.experiment_id == experiment_id
    assert run.info.artifact_uri == f"mlflow-artifacts:/{experiment_id}/{run.info.run_id}/artifacts"
    assert run.data.tags["k"] == "1"
    assert run.data.tags["mlflow.runName"] == "r1"
    assert client.get_run(run.info.run_id).info == run.info


def test_get_missing_run_raises_not_found(client: HeronClient) -> None:
    with pytest.raises(NotFound):
        client.get_run(uuid.uuid4().hex)


def test_create_run_in_missing_experiment_raises_not_found(client: HeronClient) -> None:
    with pytest.raises(NotFound):
        client.create_run("987654")


def test_params_are_stringified_and_immutable(client: HeronClient) -> None:
    run_id = client.create_run(client.create_experiment(_name())).info.run_id
    client.log_param(run_id, "lr", 0.1)
    client.log_param(run_id, "lr", "0.1")  # the same value again is fine

    with pytest.raises(InvalidParameter):
        client.log_param(run_id, "lr", 0.2)
    assert dict(client.get_run(run_id).data.params) == {"lr": "0.1"}


def test_metric_history_keeps_every_step_and_run_shows_the_latest(client: HeronClient) -> None:
    run_id = client.create_run(client.create_experiment(_name())).info.run_id
    for step in range(5):
        client.log_metric(run_id, "loss", 1.0 / (step + 1), timestamp=1000 + step, step=step)

    history = client.get_metric_history(run_id, "loss")
    (latest,) = client.get_run(run_id).data.metrics

    assert [(m.step, m.value, m.timestamp) for m in history] == [
        (s, 1.0 / (s + 1), 1000 + s) for s in range(5)
    ]
    assert (latest.key, latest.step, latest.value) == ("loss", 4, 0.2)


def test_nan_and_infinite_metric_values_round_trip(client: HeronClient) -> None:
    run_id = client.create_run(client.create_experiment(_name())).info.run_id
    client.log_metric(run_id, "nan", math.nan)
    client.log_metric(run_id, "inf", math.inf)
    client.log_batch(run_id, metrics=[Metric(key="ninf", value=-math.inf, timestamp=1)])

    values = {m.key: m.value for m in client.get_run(run_id).data.metrics}

    assert math.isnan(values["nan"])
    assert values["inf"] == math.inf
    assert values["ninf"] == -math.inf


def test_invalid_metric_key_raises_invalid_parameter(client: HeronClient) -> None:
    run_id = client.create_run(client.create_experiment(_name())).info.run_id
    with pytest.raises(InvalidParameter):
        client.log_metric(run_id, "../escape", 1.0)


def test_set_and_delete_tags(client: HeronClient) -> None:
    run_id = client.create_run(client.create_experiment(_name())).info.run_id
    client.set_tag(run_id, "keep", 1)
    client.set_tag(run_id, "drop", "x")
    client.delete_tag(run_id, "drop")

    tags = client.get_run(run_id).data.tags

    assert tags["keep"] == "1"
    assert "drop" not in tags
    with pytest.raises(NotFound):
        client.delete_tag(run_id, "drop")


def test_log_batch_writes_metrics_params_and_tags_together(client: HeronClient) -> None:
    run_id = client.create_run(client.create_experiment(_name())).info.run_id

    client.log_batch(
        run_id,
        metrics=[Metric(key="acc", value=0.5, timestamp=1, step=0)],
        params=[Param(key="a", value="1"), Param(key="b", value="2")],
        tags=[RunTag(key="t", value="v")],
    )

    data = client.get_run(run_id).data
    assert [(m.key, m.value) for m in data.metrics] == [("acc", 0.5)]
    assert dict(data.params) == {"a": "1", "b": "2"}
    assert data.tags["t"] == "v"


def test_log_batch_with_a_changed_param_writes_nothing(client: HeronClient) -> None:
    run_id = client.create_run(client.create_experiment(_name())).info.run_id
    client.log_param(run_id, "a", "1")

    with pytest.raises(InvalidParameter):
        client.log_batch(
            run_id,
            metrics=[Metric(key="m", value=1.0, timestamp=1)],
            params=[Param(key="a", value="2")],
        )
    assert client.get_run(run_id).data.metrics == []


def test_set_terminated_and_update_run(client: HeronClient) -> None:
    run_id = client.create_run(client.create_experiment(_name())).info.run_id
    client.update_run(run_id, name="renamed")
    client.set_terminated(run_id, "FAILED", end_time=123456)

    info = client.get_run(run_id).info

    assert (info.status, info.end_time, info.run_name) == (RunStatus.FAILED, 123456, "renamed")


def test_delete_and_restore_run(client: HeronClient) -> None:
    experiment_id = client.create_experiment(_name())
    run_id = client.create_run(experiment_id).info.run_id

    client.delete_run(run_id)
    assert client.get_run(run_id).info.lifecycle_stage == LifecycleStage.DELETED
    assert list(client.search_runs([experiment_id])) == []
    assert len(client.search_runs([experiment_id], run_view_type=ViewType.DELETED_ONLY)) == 1

    client.restore_run(run_id)
    assert [r.info.run_id for r in client.search_runs([experiment_id])] == [run_id]


def test_search_runs_filters_orders_and_pages(client: HeronClient) -> None:
    experiment_id = client.create_experiment(_name())
    for i in range(5):
        run_id = client.create_run(experiment_id, run_name=f"r{i}").info.run_id
        client.log_metric(run_id, "acc", i / 10)
        client.log_param(run_id, "parity", "even" if i % 2 == 0 else "odd")

    first = client.search_runs(
        experiment_id, "metrics.acc >= 0.1", order_by=["metrics.acc DESC"], max_results=2
    )
    second = client.search_runs(
        experiment_id,
        "metrics.acc >= 0.1",
        order_by=["metrics.acc DESC"],
        max_results=2,
        page_token=first.next_page_token,
    )
    even = client.search_runs([experiment_id], "params.parity = 'even'")

    assert [r.info.run_name for r in first] == ["r4", "r3"]
    assert [r.info.run_name for r in second] == ["r2", "r1"]
    assert sorted(r.info.run_name for r in even) == ["r0", "r2", "r4"]


def test_search_runs_with_a_bad_filter_raises_invalid_parameter(client: HeronClient) -> None:
    experiment_id = client.create_experiment(_name())
    with pytest.raises(InvalidParameter):
        client.search_runs([experiment_id], "metrics.acc >>> 1")


def test_log_inputs_records_datasets_with_context(client: HeronClient) -> None:
    run_id = client.create_run(client.create_experiment(_name())).info.run_id
    df = pd.DataFrame({"x": [1, 2, 3], "y": [0.5, 1.5, 2.5]})
    dataset = heron.data.from_pandas(df, source="data/train.csv", name="train")
    tag = InputTag(key="mlflow.data.context", value="training")

    client.log_inputs(run_id, [DatasetInput(dataset=dataset.to_entity(), tags=[tag])])

    (logged,) = client.get_run(run_id).dataset_inputs
    assert logged.dataset == dataset.to_entity()
    assert [(t.key, t.value) for t in logged.tags] == [("mlflow.data.context", "training")]
