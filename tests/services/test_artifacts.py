"""ArtifactService: the one way to the artifact repositories, with the path rules, the checks
of an upload's size and digests, and a question to the authorizer about every file."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from heron.errors import InvalidParameter, NotFound, PermissionDenied
from heron.services.access import Action, AllowAll, Identity, ResourceType, recording
from heron.services.artifacts import PROXY_ROOT, ArtifactService
from heron.store.artifacts import batch


@pytest.fixture
def artifacts(tmp_path: Path) -> ArtifactService:
    return ArtifactService(AllowAll(), destination=str(tmp_path / "artifacts"))


def read(service: ArtifactService, uri: str, path: str) -> bytes:
    return b"".join(service.read_artifact(uri, path))


def test_files_under_a_proxied_uri_live_in_the_destination(
    artifacts: ArtifactService, tmp_path: Path
) -> None:
    run_root = "mlflow-artifacts:/1/abc/artifacts"
    artifacts.write_artifact(run_root, "model/MLmodel", [b"flavors: {}\n"])
    assert (tmp_path / "artifacts/1/abc/artifacts/model/MLmodel").read_bytes() == b"flavors: {}\n"
    assert read(artifacts, PROXY_ROOT, "1/abc/artifacts/model/MLmodel") == b"flavors: {}\n"
    listed = artifacts.list_artifacts(run_root, "model")
    assert [(f.path, f.is_dir, f.file_size) for f in listed] == [("model/MLmodel", False, 12)]
    assert [f.path for f in artifacts.list_all_artifacts(run_root)] == ["model"]


def test_any_other_uri_is_a_repository_of_its_own(
    artifacts: ArtifactService, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    artifacts.write_artifact(f"file://{elsewhere}", "a.txt", [b"hi"])
    assert (elsewhere / "a.txt").read_bytes() == b"hi"
    assert read(artifacts, str(elsewhere), "a.txt") == b"hi"


@pytest.mark.parametrize(
    "path", ["../x", "a/../../x", "/etc/passwd", "%2e%2e/x", "a\\b", "a\x00b"],
    ids=["dotdot", "nested-dotdot", "absolute", "escaped-dotdot", "backslash", "nul"],
)  # fmt: skip
def test_paths_that_could_leave_the_root_are_refused(
    artifacts: ArtifactService, tmp_path: Path, path: str
) -> None:
    with pytest.raises(InvalidParameter):
        artifacts.write_artifact(PROXY_ROOT, path, [b"x"])
    with pytest.raises(InvalidParameter):
        artifacts.read_artifact(PROXY_ROOT, path)
    assert not (tmp_path / "x").exists()


def test_an_upload_must_have_its_announced_size_and_digest(
    artifacts: ArtifactService, tmp_path: Path
) -> None:
    content = b"twelve bytes"
    right = {"sha256": hashlib.sha256(content).digest()}
    with pytest.raises(InvalidParameter, match="cut short"):
        artifacts.write_artifact(PROXY_ROOT, "a.bin", [content], length=20)
    with pytest.raises(InvalidParameter, match="digest"):
        artifacts.write_artifact(PROXY_ROOT, "a.bin", [content], digests={"sha256": b"0" * 32})
    with pytest.raises(NotFound):
        artifacts.read_artifact(PROXY_ROOT, "a.bin")  # nothing was committed
    artifacts.write_artifact(PROXY_ROOT, "a.bin", [content], length=12, digests=right)
    assert read(artifacts, PROXY_ROOT, "a.bin") == content


def test_a_batch_writes_each_of_its_files_under_the_path(artifacts: ArtifactService) -> None:
    body = b"".join(batch.record_header(p, c) + c for p, c in [("a.txt", b"A"), ("d/b", b"BB")])
    assert artifacts.write_batch(PROXY_ROOT, "1/r/artifacts", [body], length=len(body)) == 2
    assert read(artifacts, PROXY_ROOT, "1/r/artifacts/d/b") == b"BB"


def test_proxied_uris_need_a_destination() -> None:
    service = ArtifactService(AllowAll(), destination=None)
    assert not service.serves_proxy
    with pytest.raises(InvalidParameter, match="turned off"):
        service.read_artifact("mlflow-artifacts:/1/r/artifacts", "a.txt")


def test_an_unsupported_destination_is_refused_at_once() -> None:
    with pytest.raises(InvalidParameter, match="Unsupported artifact destination"):
        ArtifactService(AllowAll(), destination="ftp://example.com/x")


class ReadOnly(AllowAll):
    def check(self, identity: Identity, action: Action, resource: ResourceType, id_: str) -> None:
        if action != "read":
            raise PermissionDenied(f"{identity.name} may only read {resource} {id_}")


def test_every_file_is_asked_about(tmp_path: Path) -> None:
    service = ArtifactService(ReadOnly(), destination=str(tmp_path))
    (tmp_path / "1").mkdir()
    (tmp_path / "1/a.txt").write_bytes(b"a")
    with recording() as decisions:
        assert read(service, "mlflow-artifacts:/1", "a.txt") == b"a"
        with pytest.raises(PermissionDenied, match=r"mlflow-artifacts:/1/b\.txt"):
            service.write_artifact("mlflow-artifacts:/1", "b.txt", [b"b"])
        with pytest.raises(PermissionDenied):
            service.delete_artifact(PROXY_ROOT, "1/a.txt")
    assert [(d.action, d.resource, d.id, d.allowed) for d in decisions] == [
        ("read", "artifact", "mlflow-artifacts:/1/a.txt", True),
        ("update", "artifact", "mlflow-artifacts:/1/b.txt", False),
        ("delete", "artifact", "mlflow-artifacts:/1/a.txt", False),
    ]
    assert (tmp_path / "1/a.txt").exists()
    assert not (tmp_path / "1/b.txt").exists()
