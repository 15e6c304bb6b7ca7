"""The LoggedModel SDK: HeronClient in process and over HTTP, and the fluent API."""

from __future__ import annotations

import pytest

import heron
from heron import HeronClient
from heron.entities import LoggedModelInput, LoggedModelOutput, LoggedModelStatus
from heron.errors import InvalidParameter, NotFound


def test_lifecycle_tags_params_and_delete(client: HeronClient) -> None:
    experiment_id = client.create_experiment("models")
    run = client.create_run(experiment_id)
    model = client.create_logged_model(
        experiment_id, name="clf", source_run_id=run.info.run_id, tags={"k": 1}, params={"C": 1.0}
    )
    assert model.status is LoggedModelStatus.PENDING
    assert model.artifact_location.endswith(f"/models/{model.model_id}/artifacts")
    assert model.params == {"C": "1.0"}

    done = client.finalize_logged_model(model.model_id, "READY")
    assert done.status is LoggedModelStatus.READY
    client.set_logged_model_tags(model.model_id, {"env": "dev", "a/b": "x"})
    client.delete_logged_model_tag(model.model_id, "a/b")
    client.log_model_params(model.model_id, {"depth": 4})
    got = client.get_logged_model(model.model_id)
    assert got.tags == {"k": "1", "env": "dev"}
    assert got.params == {"C": "1.0", "depth": "4"}
    assert got.source_run_id == run.info.run_id

    client.delete_logged_model(model.model_id)
    with pytest.raises(NotFound):
        client.get_logged_model(model.model_id)
    assert client.get_logged_model(model.model_id, allow_deleted=True).name == "clf"


def test_metrics_outputs_and_inputs_link_runs_and_models(client: HeronClient) -> None:
    experiment_id = client.create_experiment("linked")
    run_id = client.create_run(experiment_id).info.run_id
    model_id = client.create_logged_model(experiment_id, name="m").model_id

    class Data:
        name, digest = "eval", "abc123"

    client.log_metric(run_id, "acc", 0.93, step=2, model_id=model_id, dataset=Data())
    client.log_metric(run_id, "plain", 1.0)
    client.log_outputs(run_id, [LoggedModelOutput(model_id=model_id, step=2)])
    client.log_inputs(run_id, models=[LoggedModelInput(model_id=model_id)])

    (metric,) = client.get_logged_model(model_id).metrics
    assert (metric.key, metric.value, metric.step, metric.run_id) == ("acc", 0.93, 2, run_id)
    assert (metric.dataset_name, metric.dataset_digest) == ("eval", "abc123")
    run = client.get_run(run_id)
    assert {m.key for m in run.data.metrics} == {"acc", "plain"}
    assert list(run.model_outputs) == [LoggedModelOutput(model_id=model_id, step=2)]
    assert list(run.model_inputs) == [LoggedModelInput(model_id=model_id)]


def test_search_pages_filters_and_orders(client: HeronClient) -> None:
    experiment_id = client.create_experiment("searched")
    run_id = client.create_run(experiment_id).info.run_id
    for name, acc in (("a", 0.5), ("b", 0.9), ("c", 0.7)):
        model_id = client.create_logged_model(experiment_id, name=name).model_id
        client.log_metric(run_id, "acc", acc, model_id=model_id)
    best = client.search_logged_models(
        [experiment_id], order_by=[{"field_name": "metrics.acc", "ascending": False}]
    )
    assert [m.name for m in best] == ["b", "c", "a"]
    good = client.search_logged_models([experiment_id], filter_string="metrics.acc >= 0.7")
    assert sorted(m.name for m in good) == ["b", "c"]
    first = client.search_logged_models([experiment_id], max_results=2)
    assert len(first) == 2
    assert first.next_page_token is not None
    rest = client.search_logged_models(
        [experiment_id], max_results=2, page_token=first.next_page_token
    )
    # The pages are the whole answer in its order: newest first, ties (models made in the
    # same millisecond) in a fixed order of their own.
    paged = [m.model_id for m in [*first, *rest]]
    whole = list(client.search_logged_models([experiment_id]))
    assert paged == [m.model_id for m in whole]
    assert len(set(paged)) == 3
    created = [m.creation_timestamp for m in whole]
    assert created == sorted(created, reverse=True)
    with pytest.raises(InvalidParameter):
        client.search_logged_models([experiment_id], filter_string="metrics.acc >>> 1")


@pytest.mark.usefixtures("home")
def test_fluent_models_follow_the_active_run_and_model() -> None:
    heron.set_experiment("fluent-models")
    with heron.start_run() as run:
        draft = heron.initialize_logged_model(name="draft", tags={"k": "v"}, model_type="agent")
        external = heron.create_external_model(name="ext", params={"temperature": "0.2"})
        heron.set_active_model(model_id=external.model_id)
        assert heron.get_active_model_id() == external.model_id
        heron.log_metric("score", 0.8)  # linked to the active model
        heron.log_model_params({"top_p": "0.9"})
    assert draft.status is LoggedModelStatus.PENDING
    assert draft.source_run_id == run.info.run_id
    got = heron.get_logged_model(external.model_id)
    assert got.status is LoggedModelStatus.READY
    assert got.params == {"temperature": "0.2", "top_p": "0.9"}
    assert [(m.key, m.run_id) for m in got.metrics] == [("score", run.info.run_id)]

    heron.finalize_logged_model(draft.model_id, LoggedModelStatus.READY)
    heron.set_logged_model_tags(draft.model_id, {"env": "prod"})
    heron.delete_logged_model_tag(draft.model_id, "k")
    assert heron.get_logged_model(draft.model_id).tags == {"env": "prod"}

    found = heron.search_logged_models(filter_string="name = 'draft'")
    assert [m.model_id for m in found] == [draft.model_id]
    frame = heron.search_logged_models(output_format="pandas")
    assert set(frame["model_id"]) == {draft.model_id, external.model_id}
    assert set(frame["status"]) == {"READY"}

    # By name: the newest model of that name, or a new external one.
    assert heron.set_active_model(name="draft").model_id == draft.model_id
    fresh = heron.set_active_model(name="brand-new")
    assert fresh.status is LoggedModelStatus.READY
    assert heron.get_active_model_id() == fresh.model_id
    heron.clear_active_model()
    with pytest.raises(InvalidParameter, match="set_active_model"):
        heron.log_model_params({"a": "b"})
