"""`heron replicate` (artifacts to a folder or a bucket, as stored) and `heron status`."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from heron import HeronClient
from heron.cli.main import main
from heron.clock import now_ms
from heron.services.replication import read_state, replicate_once
from heron.store.artifacts import LocalArtifactRepository, S3ArtifactRepository
from heron.store.crypto.keys import create_key_file


def heron(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), env={"COLUMNS": "200"})


def test_replicate_copies_what_the_replica_lacks_and_records_the_lag(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with HeronClient(str(data)) as client:
        run_id = client.create_run("0").info.run_id
        client.log_text(run_id, "one", "a.txt")
        client.log_text(run_id, "two", "b/c.txt")
    flags = ["--artifacts-destination", str(data / "artifacts")]
    first = heron("replicate", str(tmp_path / "replica"), "--once", *flags)
    assert first.exit_code == 0, first.output
    assert "2 files, 2 copied" in first.output
    with HeronClient(str(data)) as client:
        client.log_text(run_id, "three", "d.txt")
    second = heron("replicate", str(tmp_path / "replica"), "--once", *flags)
    assert "3 files, 1 copied" in second.output
    replica = tmp_path / "replica/0" / run_id / "artifacts"
    assert (replica / "b/c.txt").read_text() == "two"
    state = read_state(LocalArtifactRepository(tmp_path / "replica"))
    assert state is not None
    assert 0 <= state.lag_s(now_ms()) < 60


def test_replicate_to_a_bucket_and_mirror_deletes(tmp_path: Path, s3_server: Any) -> None:
    source = LocalArtifactRepository(tmp_path / "artifacts")
    source.write("0/r/artifacts/kept.bin", [b"k" * 5000])
    source.write("0/r/artifacts/gone.bin", [b"g"])
    bucket = S3ArtifactRepository(
        s3_server.shared_bucket(),
        f"replica/{uuid.uuid4().hex}",
        endpoint_url=s3_server.endpoint_url,
    )
    assert replicate_once(source, bucket).copied_files == 2
    source.delete("0/r/artifacts/gone.bin")
    kept = replicate_once(source, bucket)
    assert (kept.copied_files, kept.removed_files) == (0, 0)
    assert b"".join(bucket.read("0/r/artifacts/gone.bin")) == b"g"  # a replica keeps it
    mirrored = replicate_once(source, bucket, mirror_deletes=True)
    assert mirrored.removed_files == 1
    assert b"".join(bucket.read("0/r/artifacts/kept.bin")) == b"k" * 5000


def test_status_shows_encryption_backups_and_replication(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with HeronClient(str(data)) as client:
        client.log_text(client.create_run("0").info.run_id, "x", "x.txt")
    key_file = tmp_path / "keys.json"
    key_id = create_key_file(key_file)
    store = ["--backend-store-uri", f"sqlite:///{data}/heron.db"]
    store += ["--artifacts-destination", str(data / "artifacts")]
    assert heron("backup", "create", str(tmp_path / "backups"), *store).exit_code == 0
    assert heron("replicate", str(tmp_path / "replica"), "--once", *store[2:]).exit_code == 0
    shown = heron(
        "status", *store, "--encryption-key", str(key_file),
        "--backups", str(tmp_path / "backups"), "--replica", str(tmp_path / "replica"),
    )  # fmt: skip
    assert shown.exit_code == 0, shown.output
    assert f"wrapped by {key_id}" in shown.output
    assert "fields:      trace inputs and outputs" in shown.output
    assert "backups:     1 in" in shown.output
    assert "replication:" in shown.output
    assert "lag" in shown.output
    bare = heron("status", *store)
    assert "encryption:  off" in bare.output
    assert "backups:     not shown" in bare.output
