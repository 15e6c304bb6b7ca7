"""Backups on SQLite and PostgreSQL: create, verify, restore, incremental copies, retention."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path
from typing import Any

import pytest

from heron.errors import InvalidParameter, NotFound
from heron.services import AllowAll, ExperimentService, RunService
from heron.services.backup_manifest import blob_path, list_backups, read_manifest
from heron.services.backup_retention import Retention, prune_backups
from heron.services.backups import BackupSource, create_backup
from heron.services.restore import Corrupt, restore_backup, verify_backup
from heron.store.artifacts import LocalArtifactRepository, S3ArtifactRepository
from heron.store.sql import open_sql_stores

ROOT = "mlflow-artifacts:"


def _services(uri: str) -> tuple[Any, ExperimentService, RunService]:
    stores = open_sql_stores(uri, default_artifact_root=ROOT)
    return (
        stores,
        ExperimentService(stores.experiments, AllowAll(), artifact_roots=(ROOT,)),
        RunService(stores.runs, AllowAll()),
    )


def _fill(uri: str, artifacts: LocalArtifactRepository) -> str:
    stores, experiments, runs = _services(uri)
    try:
        experiment_id = experiments.create_experiment("backed-up")
        run = runs.create_run(experiment_id, run_name="r")
        for step in range(50):
            runs.log_metric(run.info.run_id, "loss", 1 / (step + 1), 1_700_000_000_000, step)
        runs.log_param(run.info.run_id, "lr", "0.1")
    finally:
        stores.close()
    artifacts.write(f"{experiment_id}/{run.info.run_id}/artifacts/a.txt", [b"alpha"])
    artifacts.write(f"{experiment_id}/{run.info.run_id}/artifacts/copy.txt", [b"alpha"])
    artifacts.write(f"{experiment_id}/{run.info.run_id}/artifacts/big.bin", [b"b" * (9 << 20)])
    return run.info.run_id


@pytest.fixture
def destination(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    if getattr(request, "param", "local") == "local":
        return LocalArtifactRepository(tmp_path / "backups")
    s3 = request.getfixturevalue("s3_server")
    return S3ArtifactRepository(
        s3.shared_bucket(), f"backups/{uuid.uuid4().hex}", endpoint_url=s3.endpoint_url
    )


def _empty_target(database_uri: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if database_uri.startswith("sqlite"):
        return f"sqlite:///{tmp_path}/restored/heron.db"
    server = request.getfixturevalue("postgres_server")
    uri: str = server.create_database()
    request.addfinalizer(lambda: server.drop_database(uri))
    return uri


@pytest.mark.parametrize("destination", ["local", "s3"], indirect=True)
def test_a_restored_backup_holds_the_runs_metrics_and_artifacts(
    database_uri: str, destination: Any, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    artifacts = LocalArtifactRepository(tmp_path / "artifacts")
    run_id = _fill(database_uri, artifacts)
    manifest = create_backup(BackupSource(database_uri, artifacts), destination)
    assert len(manifest.artifacts) == 3
    assert manifest.copied_bytes == 5 + (9 << 20)  # the two identical files are one blob
    assert verify_backup(destination, manifest).ok

    target_uri = _empty_target(database_uri, tmp_path, request)
    restored = LocalArtifactRepository(tmp_path / "restored-artifacts")
    restore_backup(destination, manifest, database_uri=target_uri, artifacts=restored)

    stores, _, runs = _services(target_uri)
    try:
        run = runs.get_run(run_id)
        assert run.data.params == {"lr": "0.1"}
        history = runs.get_metric_history(run_id, "loss")
        assert [m.step for m in history] == list(range(50))
    finally:
        stores.close()
    for entry in manifest.artifacts:
        content = b"".join(restored.read(entry.path))
        assert hashlib.sha256(content).hexdigest() == entry.sha256


def test_a_second_backup_copies_only_new_contents(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path}/heron.db"
    artifacts = LocalArtifactRepository(tmp_path / "artifacts")
    _fill(uri, artifacts)
    destination = LocalArtifactRepository(tmp_path / "backups")
    create_backup(BackupSource(uri, artifacts), destination)
    artifacts.write("0/new.txt", [b"new content"])
    second = create_backup(BackupSource(uri, artifacts), destination)
    assert second.copied_bytes == len(b"new content")
    assert len(second.artifacts) == 4
    assert list_backups(destination)[0].backup_id == second.backup_id


def test_verify_finds_a_damaged_and_a_missing_blob(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path}/heron.db"
    artifacts = LocalArtifactRepository(tmp_path / "artifacts")
    _fill(uri, artifacts)
    destination = LocalArtifactRepository(tmp_path / "backups")
    manifest = create_backup(BackupSource(uri, artifacts), destination)
    small, big = sorted({f.sha256: f for f in manifest.artifacts}.values(), key=lambda f: f.size)
    destination.write(blob_path(small.sha256), [b"alphA"])  # same size, other content
    destination.delete(blob_path(big.sha256))
    result = verify_backup(destination, manifest)
    assert not result.ok
    assert len(result.problems) == 2
    assert any("SHA-256" in p for p in result.problems)
    assert any("does not exist" in p for p in result.problems)

    restored = LocalArtifactRepository(tmp_path / "restored")
    with pytest.raises((Corrupt, NotFound)):
        restore_backup(
            destination,
            manifest,
            database_uri=f"sqlite:///{tmp_path}/r.db",
            artifacts=restored,
        )


def test_restore_refuses_a_non_empty_target_unless_forced(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path}/heron.db"
    artifacts = LocalArtifactRepository(tmp_path / "artifacts")
    _fill(uri, artifacts)
    destination = LocalArtifactRepository(tmp_path / "backups")
    manifest = create_backup(BackupSource(uri, artifacts), destination)
    with pytest.raises(InvalidParameter, match="not empty"):
        restore_backup(destination, manifest, database_uri=uri, artifacts=artifacts)
    other = LocalArtifactRepository(tmp_path / "other")
    other.write("stray.txt", [b"x"])
    with pytest.raises(InvalidParameter, match=r"artifact root .* is not empty"):
        restore_backup(
            destination, manifest, database_uri=f"sqlite:///{tmp_path}/new.db", artifacts=other
        )
    restore_backup(destination, manifest, database_uri=uri, artifacts=other, replace=True)
    with pytest.raises(NotFound):
        other.read("stray.txt")
    assert len(read_manifest(destination, "latest").artifacts) == 3


def test_a_sqlite_backup_does_not_restore_into_postgresql(
    tmp_path: Path, postgres_server: Any
) -> None:
    uri = f"sqlite:///{tmp_path}/heron.db"
    artifacts = LocalArtifactRepository(tmp_path / "artifacts")
    _fill(uri, artifacts)
    destination = LocalArtifactRepository(tmp_path / "backups")
    manifest = create_backup(BackupSource(uri, artifacts), destination)
    target = postgres_server.create_database()
    try:
        with pytest.raises(InvalidParameter, match="heron export"):
            restore_backup(destination, manifest, database_uri=target, artifacts=None)
    finally:
        postgres_server.drop_database(target)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("7d", Retention(max_age_ms=7 * 86_400_000)), ("3", Retention(count=3))],
    ids=["age", "count"],
)
def test_retention_parses_an_age_or_a_count(text: str, expected: Retention) -> None:
    assert Retention.parse(text) == expected


@pytest.mark.parametrize("text", ["", "0", "7x", "d7", "-1"], ids=str)
def test_retention_refuses_what_it_cannot_read(text: str) -> None:
    with pytest.raises(InvalidParameter, match="--keep"):
        Retention.parse(text)


def test_retention_removes_old_backups_and_their_unshared_blobs(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path}/heron.db"
    artifacts = LocalArtifactRepository(tmp_path / "artifacts")
    _fill(uri, artifacts)
    destination = LocalArtifactRepository(tmp_path / "backups")
    artifacts.write("0/old.txt", [b"only in the first"])
    first = create_backup(BackupSource(uri, artifacts), destination)
    artifacts.delete("0/old.txt")
    second = create_backup(BackupSource(uri, artifacts), destination)

    kept_young = prune_backups(
        destination, Retention(max_age_ms=3_600_000), now_ms=second.snapshot_ms
    )
    assert kept_young.backups == ()
    pruned = prune_backups(destination, Retention(count=1), now_ms=second.snapshot_ms)
    assert pruned.backups == (first.backup_id,)
    assert pruned.blobs == 1  # "only in the first"; the shared ones stay
    assert [m.backup_id for m in list_backups(destination)] == [second.backup_id]
    assert verify_backup(destination, second).ok
