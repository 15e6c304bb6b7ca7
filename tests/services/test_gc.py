"""Garbage collection: deleted runs and experiments lose their files, then their rows; nothing
else is touched, and what cannot be cleaned is kept and said. SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from heron.clock import now_ms
from heron.entities.deleted import DeletedKind
from heron.errors import InvalidParameter, NotFound
from heron.services import ExperimentService, RunService
from heron.services.gc import collect_garbage
from heron.store.artifacts import LocalArtifactRepository, open_artifact_repository
from heron.store.artifacts.locations import ArtifactLocations
from heron.store.artifacts.paths import proxied_path
from heron.store.sql.purge import SqlPurgeStore

PROXY = "mlflow-artifacts:"


@pytest.fixture
def destination(tmp_path: Path) -> str:
    return str(tmp_path / "artifacts")


def _with_file(runs: RunService, repo: Any, experiment_id: str, name: str) -> str:
    """A new run with one artifact file; returns its id."""
    run = runs.create_run(experiment_id, run_name=name)
    path = proxied_path(run.info.artifact_uri)
    repo.write(f"{path}/model/weights.bin", [b"w" * 100])
    return run.info.run_id


def _collect(stores: Any, destination: str, **options: Any) -> Any:
    locations = ArtifactLocations(destination, (PROXY,))
    return collect_garbage(SqlPurgeStore(stores.database), locations, **options)


def test_a_deleted_run_loses_its_files_and_its_row_and_the_others_keep_theirs(
    stores: Any, experiments: ExperimentService, runs: RunService, destination: str
) -> None:
    repo = LocalArtifactRepository(destination)
    experiment_id = experiments.create_experiment("gc")
    doomed = _with_file(runs, repo, experiment_id, "doomed")
    kept = _with_file(runs, repo, experiment_id, "kept")
    runs.log_param(doomed, "p", "1")
    runs.delete_run(doomed)

    dry = _collect(stores, destination, dry_run=True)
    assert [(i.kind, i.id) for i in dry.removed] == [(DeletedKind.RUN, doomed)]
    assert runs.get_run(doomed).info.run_id == doomed  # a dry run removes nothing
    assert (Path(destination) / experiment_id / doomed / "artifacts/model/weights.bin").exists()

    report = _collect(stores, destination)

    assert [i.id for i in report.removed] == [doomed]
    assert report.kept == []
    with pytest.raises(NotFound):
        runs.get_run(doomed)
    assert not (Path(destination) / experiment_id / doomed).exists()
    assert (Path(destination) / experiment_id / kept / "artifacts/model/weights.bin").exists()
    assert runs.get_run(kept).info.run_name == "kept"
    assert _collect(stores, destination).removed == []  # nothing left to do


def test_a_deleted_experiment_goes_with_all_its_runs(
    stores: Any, experiments: ExperimentService, runs: RunService, destination: str
) -> None:
    repo = LocalArtifactRepository(destination)
    gone = experiments.create_experiment("gone")
    stays = experiments.create_experiment("stays")
    gone_runs = [_with_file(runs, repo, gone, f"r{i}") for i in range(3)]
    other = _with_file(runs, repo, stays, "other")
    experiments.delete_experiment(gone)

    report = _collect(stores, destination)

    assert sorted((i.kind.value, i.id) for i in report.removed) == sorted(
        [("experiment", gone), *(("run", r) for r in gone_runs)]
    )
    with pytest.raises(NotFound):
        experiments.get_experiment(gone)
    assert not (Path(destination) / gone).exists()
    assert runs.get_run(other).info.experiment_id == stays
    assert (Path(destination) / stays / other / "artifacts/model/weights.bin").exists()
    # the name is free again once the experiment is gone for good
    assert experiments.create_experiment("gone") != gone


def test_a_deleted_logged_model_loses_its_files_and_row(
    stores: Any, experiments: ExperimentService, runs: RunService, destination: str
) -> None:
    from heron.services import AllowAll
    from heron.services.logged_models import LoggedModelService

    models = LoggedModelService(stores.logged_models, stores.experiments, AllowAll())
    repo = LocalArtifactRepository(destination)
    experiment_id = experiments.create_experiment("models")
    doomed = models.create_logged_model(experiment_id, name="doomed")
    kept = models.create_logged_model(experiment_id, name="kept")
    for model in (doomed, kept):
        repo.write(f"{proxied_path(model.artifact_location)}/MLmodel", [b"flavors: {}"])
    models.delete_logged_model(doomed.model_id)

    report = _collect(stores, destination)

    assert [(i.kind, i.id) for i in report.removed] == [(DeletedKind.LOGGED_MODEL, doomed.model_id)]
    model_dirs = Path(destination) / experiment_id / "models"
    assert not (model_dirs / doomed.model_id).exists()
    assert (model_dirs / kept.model_id / "artifacts/MLmodel").exists()
    assert models.get_logged_model(kept.model_id).name == "kept"
    with pytest.raises(NotFound):
        models.get_logged_model(doomed.model_id)


def test_older_than_keeps_what_was_deleted_recently(
    stores: Any, experiments: ExperimentService, runs: RunService, destination: str
) -> None:
    repo = LocalArtifactRepository(destination)
    run_id = _with_file(runs, repo, experiments.create_experiment("recent"), "r")
    runs.delete_run(run_id)

    assert _collect(stores, destination, deleted_before=now_ms() - 60_000).removed == []
    assert [i.id for i in _collect(stores, destination, deleted_before=now_ms() + 1).removed] == [
        run_id
    ]


def test_chosen_runs_only_and_they_must_be_deleted(
    stores: Any, experiments: ExperimentService, runs: RunService, destination: str
) -> None:
    repo = LocalArtifactRepository(destination)
    experiment_id = experiments.create_experiment("chosen")
    first, second, active = (_with_file(runs, repo, experiment_id, n) for n in "abc")
    runs.delete_run(first)
    runs.delete_run(second)

    with pytest.raises(InvalidParameter, match="not deleted"):
        _collect(stores, destination, run_ids=[active])
    with pytest.raises(NotFound):
        _collect(stores, destination, run_ids=["0" * 32])
    report = _collect(stores, destination, run_ids=[first])

    assert [i.id for i in report.removed] == [first]
    assert runs.get_run(second).info.lifecycle_stage.value == "deleted"
    with pytest.raises(InvalidParameter, match="not deleted"):
        _collect(stores, destination, experiment_ids=[experiment_id])


def test_files_outside_the_configured_roots_are_kept_with_their_rows(
    stores: Any, experiments: ExperimentService, runs: RunService, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    experiment_id = stores.experiments.create_experiment(
        "elsewhere", artifact_location=str(elsewhere), tags={}
    )
    run = runs.create_run(experiment_id)
    LocalArtifactRepository(str(elsewhere)).write(f"{run.info.run_id}/artifacts/f", [b"x"])
    experiments.delete_experiment(experiment_id)

    report = _collect(stores, str(tmp_path / "artifacts"))  # `elsewhere` is not a root

    assert report.removed == []
    reasons = {i.kind.value: reason for i, reason in report.kept}
    assert reasons["run"].endswith("is outside the configured artifact roots")
    assert reasons["experiment"] == "some of its runs or models were kept"
    assert (elsewhere / run.info.run_id / "artifacts/f").exists()
    assert runs.get_run(run.info.run_id).info.run_id == run.info.run_id
    # with the root configured, the next collection finishes the job
    locations = ArtifactLocations(str(tmp_path / "artifacts"), (PROXY, str(elsewhere)))
    done = collect_garbage(SqlPurgeStore(stores.database), locations)
    assert {i.kind.value for i in done.removed} == {"run", "experiment"}
    assert not (elsewhere / run.info.run_id).exists()


@pytest.mark.parametrize("database_uri", ["sqlite"], indirect=True)
def test_collects_on_s3(
    stores: Any,
    experiments: ExperimentService,
    runs: RunService,
    s3_server: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import uuid

    monkeypatch.setenv("MLFLOW_S3_ENDPOINT_URL", s3_server.endpoint_url)
    destination = f"s3://{s3_server.shared_bucket()}/gc-{uuid.uuid4().hex[:8]}"
    repo = open_artifact_repository(destination)
    experiment_id = experiments.create_experiment("s3")
    doomed = _with_file(runs, repo, experiment_id, "doomed")
    kept = _with_file(runs, repo, experiment_id, "kept")
    runs.delete_run(doomed)

    report = _collect(stores, destination)

    assert [i.id for i in report.removed] == [doomed]
    assert list(repo.list(f"{experiment_id}/{doomed}/artifacts/model")) == []
    assert [f.path for f in repo.list(f"{experiment_id}/{kept}/artifacts/model")] == [
        f"{experiment_id}/{kept}/artifacts/model/weights.bin"
    ]
