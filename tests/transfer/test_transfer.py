"""`heron export` / `heron import` between Heron stores: everything copied, ids mapped,
lineage kept, and a second run copies nothing twice."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from heron import HeronClient
from heron.cli.main import main
from heron.entities import Dataset, DatasetInput, Metric
from heron.entities.trace import Span

T0 = 1_700_000_000_000


def heron(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), env={"COLUMNS": "200"})


def store_flags(data: Path) -> list[str]:
    return [
        "--backend-store-uri",
        f"sqlite:///{data / 'heron.db'}",
        "--artifacts-destination",
        str(data / "artifacts"),
    ]


def _fill(client: HeronClient, tmp_path: Path) -> dict[str, Any]:
    experiment_id = client.create_experiment("moved", tags={"team": "risk"})
    parent = client.create_run(experiment_id, start_time=T0, run_name="parent")
    child = client.create_run(
        experiment_id,
        start_time=T0 + 1,
        run_name="child",
        tags={"mlflow.parentRunId": parent.info.run_id},
    )
    run_id = child.info.run_id
    points = [Metric(key="loss", value=1 / (s + 1), timestamp=T0 + s, step=s) for s in range(1500)]
    client.log_batch(run_id, metrics=points[:1000])
    client.log_batch(run_id, metrics=points[1000:])
    client.log_param(run_id, "lr", "0.01")
    client.log_inputs(
        run_id,
        datasets=[
            DatasetInput(dataset=Dataset(name="d", digest="abc", source_type="local", source="x"))
        ],
    )
    client.log_text(run_id, "weights", "model/weights.txt")
    client.set_terminated(run_id, "FINISHED", end_time=T0 + 99)
    client.set_terminated(parent.info.run_id, "FINISHED", end_time=T0 + 100)

    model = client.create_logged_model(
        experiment_id, name="clf", source_run_id=run_id, params={"depth": "3"}
    )
    client.backend.artifacts.put(model.artifact_location, "MLmodel", _bytes(b"flavors: {}\n"))
    client.finalize_logged_model(model.model_id, "READY")
    client.create_registered_model("fraud", tags={"owner": "ana"}, description="fraud model")
    client.create_model_version(
        "fraud", f"models:/{model.model_id}", run_id=run_id, model_id=model.model_id
    )
    client.create_model_version("fraud", f"runs:/{run_id}/model", run_id=run_id)
    client.set_registered_model_alias("fraud", "champion", "2")

    trace_id = "tr-" + secrets.token_hex(16)
    root = Span(
        trace_id=trace_id,
        span_id=secrets.token_hex(8),
        parent_span_id=None,
        name="root",
        start_time_ns=T0 * 10**6,
        end_time_ns=T0 * 10**6 + 5000,
        inputs={"q": "hi"},
        outputs={"a": "yo"},
    )
    client.log_spans(experiment_id, [root])
    client.log_feedback(trace_id, "helpful", True, rationale="good")
    return {
        "run_id": run_id,
        "parent": parent.info.run_id,
        "model_id": model.model_id,
        "trace_id": trace_id,
    }


def _bytes(data: bytes) -> Any:
    import io

    return io.BytesIO(data)


def test_export_copies_everything_and_a_second_run_nothing(tmp_path: Path) -> None:
    source_dir, target_dir = tmp_path / "a", tmp_path / "b"
    with HeronClient(str(source_dir)) as client:
        ids = _fill(client, tmp_path)

    first = heron("export", str(target_dir), *store_flags(source_dir))
    assert first.exit_code == 0, first.output
    assert "runs: 2 exported, 0 already" in first.output
    second = heron("export", str(target_dir), *store_flags(source_dir))
    assert second.exit_code == 0, second.output
    assert "runs: 0 exported, 2 already" in second.output
    assert "traces: 0 exported, 1 already" in second.output

    with HeronClient(str(target_dir)) as target:
        experiment = target.get_experiment_by_name("moved")
        assert experiment is not None
        assert experiment.tags["team"] == "risk"
        runs = {r.info.run_name: r for r in target.search_runs([experiment.experiment_id])}
        assert set(runs) == {"parent", "child"}
        child, parent = runs["child"], runs["parent"]
        assert child.info.run_id != ids["run_id"]
        assert child.data.tags["mlflow.parentRunId"] == parent.info.run_id
        assert child.data.params["lr"] == "0.01"
        history = target.get_metric_history(child.info.run_id, "loss")
        assert [(m.step, m.value, m.timestamp) for m in history] == [
            (s, 1 / (s + 1), T0 + s) for s in range(1500)
        ]
        assert (child.info.start_time, child.info.end_time, child.info.status) == (
            T0 + 1,
            T0 + 99,
            "FINISHED",
        )
        assert [d.dataset.digest for d in child.dataset_inputs] == ["abc"]
        assert target.load_text(f"runs:/{child.info.run_id}/model/weights.txt") == "weights"

        (model,) = target.search_logged_models([experiment.experiment_id])
        assert model.source_run_id == child.info.run_id
        assert model.params == {"depth": "3"}
        assert str(model.status) == "READY"
        registered = target.get_registered_model("fraud")
        assert registered.tags["owner"] == "ana"
        assert registered.description == "fraud model"
        assert registered.aliases == {"champion": "2"}
        v1 = target.get_model_version("fraud", "1")
        v2 = target.get_model_version("fraud", "2")
        assert (v1.model_id, v1.source) == (model.model_id, f"models:/{model.model_id}")
        assert v2.source == f"runs:/{child.info.run_id}/model"

        trace = target.get_trace(ids["trace_id"])
        assert trace.info.experiment_id == experiment.experiment_id
        assert [s.name for s in trace.spans] == ["root"]
        assert trace.spans[0].inputs == {"q": "hi"}
        (feedback,) = trace.info.assessments
        assert (feedback.name, feedback.value, feedback.rationale) == ("helpful", True, "good")
