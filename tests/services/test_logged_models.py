"""LoggedModel rules and storage, run against SQLite and PostgreSQL through the real stores."""

from __future__ import annotations

import math
import re
import time
from typing import Any

import pytest

from heron.clock import now_ms
from heron.entities import (
    LoggedModelInput,
    LoggedModelMetric,
    LoggedModelOutput,
    LoggedModelStatus,
    Metric,
)
from heron.errors import InvalidParameter, NotFound
from heron.services import ExperimentService, RunService
from heron.services.logged_models import LoggedModelService
from heron.services.validation import INT64_MAX


@pytest.fixture
def models(stores: Any) -> LoggedModelService:
    from heron.services import AllowAll

    return LoggedModelService(stores.logged_models, stores.experiments, AllowAll())


@pytest.fixture
def experiment_id(experiments: ExperimentService) -> str:
    return experiments.create_experiment("models")


def test_create_is_pending_with_id_location_tags_and_params(
    models: LoggedModelService, experiment_id: str
) -> None:
    model = models.create_logged_model(
        experiment_id,
        name="clf",
        model_type="agent",
        tags={"team": "a"},
        params={"lr": "0.1"},
    )
    assert re.fullmatch(r"m-[0-9a-f]{32}", model.model_id)
    assert model.status is LoggedModelStatus.PENDING
    assert model.artifact_location == (
        f"mlflow-artifacts:/{experiment_id}/models/{model.model_id}/artifacts"
    )
    assert model.model_uri == f"models:/{model.model_id}"
    got = models.get_logged_model(model.model_id)
    assert (got.name, got.model_type, got.experiment_id) == ("clf", "agent", experiment_id)
    assert got.tags == {"team": "a"}
    assert got.params == {"lr": "0.1"}
    assert got.creation_timestamp == got.last_updated_timestamp > 0


def test_create_without_name_generates_one(models: LoggedModelService, experiment_id: str) -> None:
    assert models.create_logged_model(experiment_id).name


@pytest.mark.parametrize(
    "name", ["", "a/b", "a.b", "a:b", "50%", "it's", "x" * 501], ids=str.__len__
)
def test_create_rejects_bad_names(
    models: LoggedModelService, experiment_id: str, name: str
) -> None:
    with pytest.raises(InvalidParameter):
        models.create_logged_model(experiment_id, name=name)


def test_create_in_missing_or_deleted_experiment(
    models: LoggedModelService, experiments: ExperimentService, experiment_id: str
) -> None:
    with pytest.raises(NotFound):
        models.create_logged_model("424242", name="x")
    experiments.delete_experiment(experiment_id)
    with pytest.raises(InvalidParameter, match="active"):
        models.create_logged_model(experiment_id, name="x")


def test_finalize_sets_ready_or_upload_failed_only(
    models: LoggedModelService, experiment_id: str
) -> None:
    model = models.create_logged_model(experiment_id, name="m")
    done = models.finalize_logged_model(model.model_id, "LOGGED_MODEL_READY")
    assert done.status is LoggedModelStatus.READY
    assert done.last_updated_timestamp >= model.last_updated_timestamp
    failed = models.finalize_logged_model(model.model_id, LoggedModelStatus.UPLOAD_FAILED)
    assert failed.status is LoggedModelStatus.UPLOAD_FAILED
    with pytest.raises(InvalidParameter, match="READY or UPLOAD_FAILED"):
        models.finalize_logged_model(model.model_id, "PENDING")


def test_tags_upsert_and_delete(models: LoggedModelService, experiment_id: str) -> None:
    model_id = models.create_logged_model(experiment_id, name="m").model_id
    models.set_logged_model_tags(model_id, {"env": "dev", "owner": "me"})
    models.set_logged_model_tags(model_id, {"env": "prod"})
    assert models.get_logged_model(model_id).tags == {"env": "prod", "owner": "me"}
    models.delete_logged_model_tag(model_id, "owner")
    assert models.get_logged_model(model_id).tags == {"env": "prod"}
    with pytest.raises(NotFound):
        models.delete_logged_model_tag(model_id, "owner")


def test_params_are_immutable(models: LoggedModelService, experiment_id: str) -> None:
    model_id = models.create_logged_model(experiment_id, name="m", params={"a": "1"}).model_id
    models.log_logged_model_params(model_id, {"a": "1", "b": "2"})  # same value again is fine
    assert models.get_logged_model(model_id).params == {"a": "1", "b": "2"}
    with pytest.raises(InvalidParameter, match="Changing param values"):
        models.log_logged_model_params(model_id, {"b": "3"})


def test_delete_is_soft_and_hides_the_model(models: LoggedModelService, experiment_id: str) -> None:
    model_id = models.create_logged_model(experiment_id, name="m").model_id
    models.delete_logged_model(model_id)
    with pytest.raises(NotFound):
        models.get_logged_model(model_id)
    assert models.get_logged_model(model_id, allow_deleted=True).model_id == model_id
    assert list(models.search_logged_models([experiment_id])) == []
    with pytest.raises(NotFound):
        models.set_logged_model_tags(model_id, {"a": "b"})


@pytest.mark.parametrize("model_id", ["m-0123456789abcdef0123456789abcdef", "x" * 100, ""])
def test_unknown_model_is_not_found(models: LoggedModelService, model_id: str) -> None:
    with pytest.raises(NotFound):
        models.get_logged_model(model_id)


def test_metrics_logged_with_model_id_are_run_metrics_and_model_metrics(
    models: LoggedModelService, runs: RunService, experiment_id: str
) -> None:
    model_id = models.create_logged_model(experiment_id, name="m").model_id
    run_id = runs.create_run(experiment_id).info.run_id
    acc = Metric(key="acc", value=0.9, timestamp=1000, step=2)
    loss = Metric(key="loss", value=math.nan, timestamp=1000, step=2)
    links = [
        LoggedModelMetric(
            key=p.key, value=p.value, timestamp=p.timestamp, step=p.step, model_id=model_id,
            dataset_name="eval", dataset_digest="abc",
        )
        for p in (acc, loss)
    ]  # fmt: skip
    runs.log_batch(run_id, metrics=[acc, loss], model_metrics=links)
    got = {m.key: m for m in models.get_logged_model(model_id).metrics}
    assert got["acc"].value == 0.9
    assert got["acc"].step == 2
    assert got["acc"].run_id == run_id
    assert (got["acc"].dataset_name, got["acc"].dataset_digest) == ("eval", "abc")
    assert math.isnan(got["loss"].value)
    assert {m.key for m in runs.get_run(run_id).data.metrics} == {"acc", "loss"}


def test_metric_linked_to_missing_model_writes_nothing(
    runs: RunService, experiment_id: str
) -> None:
    run_id = runs.create_run(experiment_id).info.run_id
    point = Metric(key="acc", value=1.0, timestamp=1, step=0)
    link = LoggedModelMetric(key="acc", value=1.0, timestamp=1, model_id="m-" + "0" * 32)
    with pytest.raises(NotFound, match="Logged model"):
        runs.log_batch(run_id, metrics=[point], model_metrics=[link])
    assert list(runs.get_run(run_id).data.metrics) == []


def test_model_metric_needs_dataset_name_and_digest_together(
    runs: RunService, experiment_id: str
) -> None:
    run_id = runs.create_run(experiment_id).info.run_id
    link = LoggedModelMetric(key="a", value=1.0, timestamp=1, model_id="m-1", dataset_name="x")
    with pytest.raises(InvalidParameter, match="together"):
        runs.log_batch(run_id, metrics=[], model_metrics=[link])


def test_run_outputs_and_inputs(
    models: LoggedModelService, runs: RunService, experiment_id: str
) -> None:
    made = models.create_logged_model(experiment_id, name="made").model_id
    used = models.create_logged_model(experiment_id, name="used").model_id
    run_id = runs.create_run(experiment_id).info.run_id
    runs.log_outputs(run_id, [LoggedModelOutput(model_id=made, step=3)])
    runs.log_outputs(run_id, [LoggedModelOutput(model_id=made, step=4)])  # the last step wins
    runs.log_inputs(run_id, models=[LoggedModelInput(model_id=used)])
    run = runs.get_run(run_id)
    assert list(run.model_outputs) == [LoggedModelOutput(model_id=made, step=4)]
    assert list(run.model_inputs) == [LoggedModelInput(model_id=used)]
    found = runs.search_runs([experiment_id])
    assert list(found[0].model_outputs) == [LoggedModelOutput(model_id=made, step=4)]
    with pytest.raises(NotFound):
        runs.log_outputs(run_id, [LoggedModelOutput(model_id="m-" + "0" * 32)])
    with pytest.raises(InvalidParameter):
        runs.log_outputs(run_id, [LoggedModelOutput(model_id=made, step=INT64_MAX + 1)])


# -- search ------------------------------------------------------------------------------------


@pytest.fixture
def scored(models: LoggedModelService, runs: RunService, experiment_id: str) -> dict[str, str]:
    """Three models: a (acc 0.7 on eval, lr 0.1), b (acc 0.9 on eval, 0.5 on test), c (no acc)."""
    run_id = runs.create_run(experiment_id).info.run_id
    ids = {}
    for name, params in (("a", {"lr": "0.1"}), ("b", {"lr": "0.2"}), ("c", {})):
        made = models.create_logged_model(
            experiment_id, name=name, params=params, tags={"kind": name * 2}
        )
        ids[name] = made.model_id
        while now_ms() <= made.creation_timestamp:  # newest first: one millisecond each
            time.sleep(0.001)
    for name, value, dataset, ts in (("a", 0.7, "eval", 1), ("b", 0.9, "eval", 1),
                                     ("b", 0.5, "test", 2)):  # fmt: skip
        link = LoggedModelMetric(key="acc", value=value, timestamp=ts, model_id=ids[name],
                                 dataset_name=dataset, dataset_digest="d")  # fmt: skip
        point = Metric(key="acc", value=value, timestamp=ts)
        runs.log_batch(run_id, metrics=[point], model_metrics=[link])
    models.finalize_logged_model(ids["a"], "READY")
    return ids


def _names(page: Any) -> list[str]:
    return [m.name for m in page]


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        ("name = 'b'", ["b"]),
        ("name LIKE '%'", ["c", "b", "a"]),
        ("status = 'READY'", ["a"]),
        ("status = 'LOGGED_MODEL_PENDING'", ["c", "b"]),
        ("metrics.acc > 0.8", ["b"]),
        ("metrics.acc < 0.6", ["b"]),  # any logged point counts: b has 0.5 on test
        ("params.lr = '0.1'", ["a"]),
        ("params.lr = 0.2", ["b"]),  # MLflow compat: an unquoted number is its text
        ("tags.kind IN ('aa', 'cc')", ["c", "a"]),
        ("creation_timestamp > 0 AND name != 'a'", ["c", "b"]),
    ],
)
def test_search_filters(
    models: LoggedModelService,
    scored: dict[str, str],
    experiment_id: str,
    filter_string: str,
    expected: list[str],
) -> None:
    page = models.search_logged_models([experiment_id], filter_string=filter_string)
    assert _names(page) == expected


def test_search_scoped_to_datasets(
    models: LoggedModelService, scored: dict[str, str], experiment_id: str
) -> None:
    eval_only = [{"dataset_name": "eval"}]
    found = models.search_logged_models(
        [experiment_id], filter_string="metrics.acc < 0.8", datasets=eval_only
    )
    assert _names(found) == ["a"]
    assert _names(models.search_logged_models([experiment_id], datasets=eval_only)) == ["b", "a"]
    test_scope = [{"dataset_name": "test", "dataset_digest": "d"}]
    assert _names(models.search_logged_models([experiment_id], datasets=test_scope)) == ["b"]


def test_search_order_by_metric_and_attributes(
    models: LoggedModelService, scored: dict[str, str], experiment_id: str
) -> None:
    def ordered(*order_by: dict[str, Any]) -> list[str]:
        return _names(models.search_logged_models([experiment_id], order_by=list(order_by)))

    assert ordered() == ["c", "b", "a"]  # newest first
    assert ordered({"field_name": "name"}) == ["a", "b", "c"]
    # b's latest acc is 0.5 (on test, logged last); a model without the metric sorts last.
    assert ordered({"field_name": "metrics.acc", "ascending": True}) == ["b", "a", "c"]
    assert ordered({"field_name": "metrics.acc", "ascending": False}) == ["a", "b", "c"]
    on_eval = {"field_name": "metrics.acc", "ascending": False, "dataset_name": "eval"}
    assert ordered(on_eval) == ["b", "a", "c"]


def test_search_pages_by_token(models: LoggedModelService, experiment_id: str) -> None:
    made = {models.create_logged_model(experiment_id, name=f"m{i}").model_id for i in range(7)}
    seen: list[str] = []
    token = None
    for _ in range(10):
        page = models.search_logged_models(
            [experiment_id], max_results=3, page_token=token, order_by=[{"field_name": "name"}]
        )
        seen += [m.model_id for m in page]
        token = page.next_page_token
        if token is None:
            break
    assert len(seen) == 7
    assert set(seen) == made
    with pytest.raises(InvalidParameter, match="page_token"):
        models.search_logged_models([experiment_id], page_token="garbage")  # noqa: S106


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"filter_string": "metrics.acc > 'x'"}, "number"),
        ({"filter_string": "datasets.name = 'x'"}, "prefix"),
        ({"filter_string": "bogus = 'x'"}, "attribute"),
        ({"order_by": [{"field_name": "params.lr"}]}, "Cannot order"),
        ({"order_by": [{"field_name": "name", "dataset_name": "eval"}]}, "metrics only"),
        ({"order_by": [{"field_name": "metrics.a", "dataset_digest": "d"}]}, "together"),
        ({"datasets": [{"dataset_digest": "d"}]}, "dataset_name"),
        ({"max_results": 0}, "max_results"),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_search_rejects_bad_input(
    models: LoggedModelService, experiment_id: str, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidParameter, match=message):
        models.search_logged_models([experiment_id], **kwargs)


def test_search_needs_existing_experiments(models: LoggedModelService) -> None:
    with pytest.raises(InvalidParameter, match="at least one"):
        models.search_logged_models([])
    with pytest.raises(NotFound):
        models.search_logged_models(["424242"])
