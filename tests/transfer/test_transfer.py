"""`heron export` / `heron import` between Heron stores: everything copied, ids mapped,
lineage kept, and a second run copies nothing twice; evaluation datasets with a real Heron
server on the other side (records across pages, a copy cut short finished without
duplicates)."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from heron import HeronClient
from heron.cli.main import main
from heron.entities import Dataset, DatasetInput, Metric
from heron.entities.evaluation import DatasetRecord
from heron.entities.trace import Span
from heron.settings import Settings
from heron.transfer.base import COMPLETE
from heron.transfer.datasets import SOURCE_DATASET

T0 = 1_700_000_000_000
RECORDS = 1500  # more than one page of a dataset's records


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


def _dataset_records(client: HeronClient, dataset_id: str) -> dict[str, DatasetRecord]:
    page = client.backend.datasets.get_records(dataset_id, max_results=10_000)
    assert page.next_page_token is None
    return {r.inputs["question"]: r for r in page.items}


def _fill_datasets(client: HeronClient) -> str:
    experiment_id = client.create_experiment("qa")
    datasets = client.backend.datasets
    dataset = datasets.create_dataset(
        "golden", experiment_ids=[experiment_id], tags={"owner": "ana"}
    )
    items: list[dict[str, Any]] = [
        {
            "inputs": {"question": f"q{i}"},
            "expectations": {"answer": f"a{i}"},
            "tags": {"split": "test" if i % 2 else "train"},
            "source": {"source_type": "HUMAN", "source_data": {"user": "ana"}},
        }
        for i in range(RECORDS)
    ]
    items[0]["outputs"] = {"text": "first"}
    datasets.upsert_records(dataset.dataset_id, items[:1000])
    datasets.upsert_records(dataset.dataset_id, items[1000:])
    datasets.create_dataset("empty")
    return dataset.dataset_id


def _check_datasets(client: HeronClient, source_id: str) -> None:
    datasets = {d.name: d for d in client.backend.datasets.search_datasets().items}
    assert set(datasets) == {"golden", "empty"}
    golden = datasets["golden"]
    assert golden.dataset_id != source_id
    assert golden.tags["owner"] == "ana"
    assert golden.tags[SOURCE_DATASET] == source_id
    experiment = client.get_experiment_by_name("qa")
    assert experiment is not None
    assert list(golden.experiment_ids) == [experiment.experiment_id]
    records = _dataset_records(client, golden.dataset_id)
    assert len(records) == RECORDS
    first, last = records["q0"], records[f"q{RECORDS - 1}"]
    assert first.outputs == {"text": "first"}
    assert dict(last.expectations or {}) == {"answer": f"a{RECORDS - 1}"}
    assert dict(last.tags or {}) == {"split": "test"}
    assert (last.source or {})["source_type"] == "HUMAN"


def test_datasets_import_from_a_server_and_again(tmp_path: Path, serve_settings: Any) -> None:
    (tmp_path / "server").mkdir()
    server = Settings.for_home(tmp_path / "server")
    target = tmp_path / "target"
    with serve_settings(server) as url:
        with HeronClient(url) as client:
            source_id = _fill_datasets(client)
        first = heron("import", url, *store_flags(target))
        assert first.exit_code == 0, first.output
        assert "datasets: 2 imported, 0 already in this store" in first.output
        with HeronClient(str(target)) as copy:
            _check_datasets(copy, source_id)
            golden = next(
                d for d in copy.backend.datasets.search_datasets().items if d.name == "golden"
            )
            # As if the first import had stopped half way through this dataset's records.
            copy.backend.datasets.delete_dataset_tag(golden.dataset_id, COMPLETE)
            gone = list(_dataset_records(copy, golden.dataset_id).values())[:700]
            copy.backend.datasets.delete_records(
                golden.dataset_id, [r.dataset_record_id for r in gone]
            )
        second = heron("import", url, *store_flags(target))
        assert second.exit_code == 0, second.output
        assert "datasets: 1 imported, 1 already in this store" in second.output
        third = heron("import", url, *store_flags(target))
        assert "datasets: 0 imported, 2 already in this store" in third.output
    with HeronClient(str(target)) as copy:
        _check_datasets(copy, source_id)


def test_datasets_export_to_a_server(tmp_path: Path, serve_settings: Any) -> None:
    source = tmp_path / "source"
    with HeronClient(str(source)) as client:
        source_id = _fill_datasets(client)
    (tmp_path / "server").mkdir()
    with serve_settings(Settings.for_home(tmp_path / "server")) as url:
        done = heron("export", url, *store_flags(source))
        assert done.exit_code == 0, done.output
        assert "datasets: 2 exported" in done.output
        with HeronClient(url) as copy:
            _check_datasets(copy, source_id)
