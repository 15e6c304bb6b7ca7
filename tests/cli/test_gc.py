"""`heron gc` on a data directory the SDK wrote to: dry run, removal, options and errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from heron import HeronClient
from heron.cli.gc import parse_duration_ms
from heron.cli.main import main
from heron.errors import NotFound


def heron_gc(data: Path, *args: str) -> Result:
    options = ["--backend-store-uri", f"sqlite:///{data / 'heron.db'}"]
    options += ["--artifacts-destination", str(data / "artifacts")]
    return CliRunner().invoke(main, ["gc", *options, *args], env={"COLUMNS": "200"})


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return tmp_path / "data"


def _run_with_artifact(client: HeronClient, tmp_path: Path, name: str) -> str:
    run_id = client.create_run("0", run_name=name).info.run_id
    source = tmp_path / f"{name}.txt"
    source.write_text(name)
    client.log_artifact(run_id, str(source))
    return run_id


def test_dry_run_lists_then_gc_removes_the_deleted_run_and_its_files(
    data: Path, tmp_path: Path
) -> None:
    with HeronClient(str(data)) as client:
        doomed = _run_with_artifact(client, tmp_path, "doomed")
        kept = _run_with_artifact(client, tmp_path, "kept")
        client.delete_run(doomed)

    dry = heron_gc(data, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert f"Would remove run {doomed}" in dry.output
    assert kept not in dry.output
    assert (data / "artifacts/0" / doomed / "artifacts/doomed.txt").exists()

    done = heron_gc(data)
    assert done.exit_code == 0, done.output
    assert f"Removed run {doomed}" in done.output
    assert not (data / "artifacts/0" / doomed).exists()
    assert (data / "artifacts/0" / kept / "artifacts/kept.txt").read_text() == "kept"
    with HeronClient(str(data)) as client:
        with pytest.raises(NotFound):
            client.get_run(doomed)
        assert client.get_run(kept).info.run_name == "kept"
    assert "Nothing to remove" in heron_gc(data).output


def test_older_than_and_run_ids(data: Path, tmp_path: Path) -> None:
    with HeronClient(str(data)) as client:
        first = _run_with_artifact(client, tmp_path, "first")
        second = _run_with_artifact(client, tmp_path, "second")
        client.delete_run(first)
        client.delete_run(second)

    assert "Nothing to remove" in heron_gc(data, "--older-than", "1d").output
    chosen = heron_gc(data, "--run-ids", first)
    assert chosen.exit_code == 0, chosen.output
    assert first in chosen.output
    assert second not in chosen.output


def test_bad_input_is_one_clear_error(data: Path, tmp_path: Path) -> None:
    with HeronClient(str(data)) as client:
        active = _run_with_artifact(client, tmp_path, "active")

    not_deleted = heron_gc(data, "--run-ids", active)
    bad_duration = heron_gc(data, "--older-than", "soon")

    assert not_deleted.exit_code == 1
    assert f"Error: Run {active} is not deleted" in not_deleted.output
    assert bad_duration.exit_code == 2
    assert "not a duration like 30d" in bad_duration.output


def test_parse_duration() -> None:
    assert parse_duration_ms("1d2h3m4s") == ((24 + 2) * 3600 + 3 * 60 + 4) * 1000
    assert parse_duration_ms("90s") == 90_000
    for bad in ("", "1x", "d", "1d 2"):
        with pytest.raises(Exception, match="not a duration"):
            parse_duration_ms(bad)
