"""LocalArtifactRepository: confinement on a real file system (symlinks, temp files)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from heron.errors import InvalidParameter
from heron.store.artifacts import LocalArtifactRepository, open_artifact_repository
from heron.store.artifacts.local import TEMP_PREFIX


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    secret = tmp_path / "outside"
    secret.mkdir()
    (secret / "secret.txt").write_text("top secret")
    return secret


@pytest.fixture
def repo(tmp_path: Path) -> LocalArtifactRepository:
    return LocalArtifactRepository(tmp_path / "root")


def test_symlinked_directory_leading_out_is_refused(
    repo: LocalArtifactRepository, outside: Path
) -> None:
    os.symlink(outside, Path(repo.root) / "escape")
    with pytest.raises(InvalidParameter):
        repo.read("escape/secret.txt")
    with pytest.raises(InvalidParameter):
        repo.write("escape/planted.txt", [b"x"])
    with pytest.raises(InvalidParameter):
        repo.list("escape")
    with pytest.raises(InvalidParameter):
        repo.delete("escape/secret.txt")
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]


def test_symlinked_file_leading_out_is_refused_and_hidden(
    repo: LocalArtifactRepository, outside: Path
) -> None:
    os.symlink(outside / "secret.txt", Path(repo.root) / "link.txt")
    with pytest.raises(InvalidParameter):
        repo.read("link.txt")
    with pytest.raises(InvalidParameter):
        repo.write("link.txt", [b"overwrite"])
    assert list(repo.list("")) == []
    assert (outside / "secret.txt").read_text() == "top secret"


def test_deleting_a_symlink_removes_the_link_not_its_target(
    repo: LocalArtifactRepository, outside: Path
) -> None:
    os.symlink(outside, Path(repo.root) / "escape")
    repo.delete("escape")
    assert not (Path(repo.root) / "escape").exists()
    assert (outside / "secret.txt").read_text() == "top secret"


def test_symlink_inside_the_root_is_followed(repo: LocalArtifactRepository) -> None:
    repo.write("real/file.txt", [b"inside"])
    os.symlink(Path(repo.root) / "real", Path(repo.root) / "alias")
    assert b"".join(repo.read("alias/file.txt")) == b"inside"


def test_nothing_lands_outside_the_root_on_traversal(
    repo: LocalArtifactRepository, tmp_path: Path
) -> None:
    before = sorted(str(p) for p in tmp_path.rglob("*"))
    for attack in ["../x.txt", "a/../../x.txt", "%2e%2e/x.txt", "..%2fx.txt", "/etc/x.txt"]:
        with pytest.raises(InvalidParameter):
            repo.write(attack, [b"x"])
    assert sorted(str(p) for p in tmp_path.rglob("*")) == before


def test_interrupted_write_leaves_no_temp_file_and_keeps_the_old_one(
    repo: LocalArtifactRepository,
) -> None:
    repo.write("f.bin", [b"old"])

    def broken() -> Iterator[bytes]:
        yield b"new but partial"
        raise ConnectionError("gone")

    with pytest.raises(ConnectionError):
        repo.write("f.bin", broken())
    assert b"".join(repo.read("f.bin")) == b"old"
    assert [p.name for p in Path(repo.root).iterdir()] == ["f.bin"]


def test_temp_files_of_uploads_in_flight_are_not_listed(repo: LocalArtifactRepository) -> None:
    repo.write("d/done.txt", [b"x"])
    (Path(repo.root) / "d" / f"{TEMP_PREFIX}abc").write_bytes(b"half")
    assert [info.path for info in repo.list("d")] == ["d/done.txt"]


def test_writing_over_a_directory_or_under_a_file_is_invalid(
    repo: LocalArtifactRepository,
) -> None:
    repo.write("d/f.txt", [b"x"])
    with pytest.raises(InvalidParameter):
        repo.write("d", [b"x"])
    with pytest.raises(InvalidParameter):
        repo.write("d/f.txt/g.txt", [b"x"])


def test_listing_2500_files_pages_through_every_one(repo: LocalArtifactRepository) -> None:
    folder = Path(repo.root) / "many"
    folder.mkdir()
    names = [f"file-{i:05d}.txt" for i in range(2500)]
    for name in reversed(names):
        (folder / name).write_bytes(b"")
    seen: list[str] = []
    token = None
    while True:
        page = repo.list("many", max_results=1000, page_token=token)
        assert len(page) <= 1000
        seen.extend(info.path for info in page)
        token = page.next_page_token
        if token is None:
            break
    assert seen == [f"many/{name}" for name in names]


def test_a_forged_page_token_is_invalid(repo: LocalArtifactRepository) -> None:
    with pytest.raises(InvalidParameter):
        repo.list("", page_token="not base64!")  # noqa: S106


def test_open_artifact_repository_picks_by_scheme(tmp_path: Path) -> None:
    local = open_artifact_repository(str(tmp_path / "a"))
    assert isinstance(local, LocalArtifactRepository)
    by_uri = open_artifact_repository(f"file://{tmp_path}/b")
    assert isinstance(by_uri, LocalArtifactRepository)
    assert by_uri.root == str(tmp_path / "b")
    with pytest.raises(InvalidParameter):
        open_artifact_repository("ftp://example.com/x")
