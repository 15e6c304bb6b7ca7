"""The fluent artifact API, embedded mode, and servers that hand out storage URIs (no proxy)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import heron
from heron.errors import InvalidParameter
from heron.settings import Settings

pytestmark = pytest.mark.usefixtures("home")


def test_fluent_logging_goes_to_the_active_run(tmp_path: Path) -> None:
    (tmp_path / "tree" / "sub").mkdir(parents=True)
    (tmp_path / "tree" / "sub" / "a.txt").write_text("a")
    (tmp_path / "single.bin").write_bytes(b"\x00\x01")

    with heron.start_run() as run:
        heron.log_artifact(tmp_path / "single.bin")
        heron.log_artifacts(tmp_path / "tree", "tree")
        heron.log_text("hello", "notes/hello.txt")
        heron.log_dict({"k": [1, 2]}, "config.yaml")
        heron.log_table({"x": [1, 2]}, "table.json")
        artifact_uri = heron.get_artifact_uri()
        assert heron.get_artifact_uri("notes/hello.txt") == f"{artifact_uri}/notes/hello.txt"

    run_id = run.info.run_id
    assert artifact_uri == run.info.artifact_uri
    names = [f.path for f in heron.list_artifacts(run_id=run_id)]
    assert names == ["config.yaml", "notes", "single.bin", "table.json", "tree"]
    assert [f.path for f in heron.list_artifacts(f"runs:/{run_id}/tree/sub")] == ["tree/sub/a.txt"]
    assert heron.load_text(f"runs:/{run_id}/notes/hello.txt") == "hello"
    assert heron.load_text(f"{artifact_uri}/notes/hello.txt") == "hello"
    assert heron.load_dict(f"runs:/{run_id}/config.yaml") == {"k": [1, 2]}
    assert heron.load_dict(f"runs:/{run_id}/table.json") == {"columns": ["x"], "data": [[1], [2]]}


def test_fluent_logging_without_an_active_run_starts_one() -> None:
    heron.log_text("x", "x.txt")

    active = heron.active_run()
    assert active is not None
    assert heron.load_text(f"runs:/{active.info.run_id}/x.txt") == "x"


def test_fluent_download_artifacts_by_uri_or_by_run_id(tmp_path: Path) -> None:
    with heron.start_run() as run:
        heron.log_text("1", "dir/one.txt")
        heron.log_text("2", "dir/deeper/two.txt")
    run_id = run.info.run_id

    by_uri = Path(heron.download_artifacts(f"runs:/{run_id}/dir", dst_path=tmp_path / "a"))
    by_run = Path(
        heron.download_artifacts(run_id=run_id, artifact_path="dir", dst_path=tmp_path / "b")
    )
    one = heron.download_artifacts(f"runs:/{run_id}/dir/one.txt", dst_path=tmp_path / "c")

    assert by_uri == (tmp_path / "a" / "dir").resolve()
    assert by_run == (tmp_path / "b" / "dir").resolve()
    for root in (by_uri, by_run):
        assert (root / "one.txt").read_text() == "1"
        assert (root / "deeper" / "two.txt").read_text() == "2"
    assert Path(one).read_text() == "1"


def test_fluent_download_needs_a_uri_or_a_run_id() -> None:
    with pytest.raises(InvalidParameter, match="artifact_uri"):
        heron.download_artifacts()
    with pytest.raises(InvalidParameter, match="artifact_uri"):
        heron.download_artifacts("runs:/x/y", run_id="x")


def test_get_artifact_uri_needs_an_active_run() -> None:
    with pytest.raises(InvalidParameter, match="active run"):
        heron.get_artifact_uri()


def test_embedded_artifacts_are_served_by_a_server_on_the_same_data_directory(
    home: Path,
    tmp_path: Path,
    serve_settings: Any,
) -> None:
    (tmp_path / "model" / "data").mkdir(parents=True)
    (tmp_path / "model" / "MLmodel").write_text("flavors: {}\n")
    (tmp_path / "model" / "data" / "w.bin").write_bytes(bytes(range(256)))
    with heron.start_run() as run:
        heron.log_artifacts(tmp_path / "model", "model")
        heron.log_text("offline", "notes.txt")

    assert (home / "artifacts").is_dir()
    with serve_settings(Settings.for_home(home)) as url, heron.HeronClient(url) as client:
        run_id = run.info.run_id
        assert [f.path for f in client.list_artifacts(run_id)] == ["model", "notes.txt"]
        assert client.load_text(f"runs:/{run_id}/notes.txt") == "offline"
        local = Path(client.download_artifacts(run_id, "model", tmp_path / "out"))
        client.log_text(run_id, "online", "from-server.txt")
    assert (local / "MLmodel").read_text() == "flavors: {}\n"
    assert (local / "data" / "w.bin").read_bytes() == bytes(range(256))
    # ...and what the server stored is there for the in-process client.
    assert heron.load_text(f"runs:/{run.info.run_id}/from-server.txt") == "online"


def test_a_server_without_the_proxy_hands_out_storage_uris_the_client_writes_to(
    tmp_path: Path,
    serve_settings: Any,
) -> None:
    storage = tmp_path / "storage"
    (tmp_path / "server").mkdir()
    settings = Settings.for_home(
        tmp_path / "server", serve_artifacts=False, default_artifact_root=str(storage)
    )
    with serve_settings(settings) as url, heron.HeronClient(url) as client:
        experiment_id = client.create_experiment("direct")
        run = client.create_run(experiment_id)
        client.log_text(run.info.run_id, "direct", "d/x.txt")
        loaded = client.load_text(f"runs:/{run.info.run_id}/d/x.txt")
        listed = [f.path for f in client.list_artifacts(run.info.run_id, "d")]

    assert run.info.artifact_uri.startswith(str(storage))
    assert loaded == "direct"
    assert listed == ["d/x.txt"]
    assert (Path(run.info.artifact_uri) / "d" / "x.txt").read_text() == "direct"


def test_a_server_without_the_proxy_can_hand_out_s3_uris_the_client_writes_to(
    tmp_path: Path,
    s3_server: Any,
    monkeypatch: pytest.MonkeyPatch,
    serve_settings: Any,
) -> None:
    bucket = s3_server.create_bucket()
    monkeypatch.setenv("MLFLOW_S3_ENDPOINT_URL", s3_server.endpoint_url)
    monkeypatch.setenv("AWS_DEFAULT_REGION", s3_server.region)
    (tmp_path / "server").mkdir()
    settings = Settings.for_home(
        tmp_path / "server", serve_artifacts=False, default_artifact_root=f"s3://{bucket}/runs"
    )
    (tmp_path / "tree" / "sub").mkdir(parents=True)
    (tmp_path / "tree" / "sub" / "w.bin").write_bytes(bytes(range(256)))
    with serve_settings(settings) as url, heron.HeronClient(url) as client:
        run = client.create_run(client.create_experiment("on-s3"))
        client.log_artifacts(run.info.run_id, tmp_path / "tree", "model")
        local = Path(client.download_artifacts(run.info.run_id, "model", tmp_path / "out"))

    assert run.info.artifact_uri.startswith(f"s3://{bucket}/runs/")
    assert (local / "sub" / "w.bin").read_bytes() == bytes(range(256))
    keys = [o["Key"] for o in s3_server.client().list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == [f"runs/{run.info.experiment_id}/{run.info.run_id}/artifacts/model/sub/w.bin"]
