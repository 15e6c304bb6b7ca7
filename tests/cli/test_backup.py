"""`heron backup create|list|verify|restore|prune` on a data directory the SDK wrote to."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result

from heron import HeronClient
from heron.cli.main import main


def heron(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), env={"COLUMNS": "200"})


def store_flags(data: Path) -> list[str]:
    return [
        "--backend-store-uri",
        f"sqlite:///{data / 'heron.db'}",
        "--artifacts-destination",
        str(data / "artifacts"),
    ]


def test_backup_list_verify_restore_round_trip(tmp_path: Path) -> None:
    data, backups, restored = tmp_path / "data", tmp_path / "backups", tmp_path / "restored"
    with HeronClient(str(data)) as client:
        run_id = client.create_run("0", run_name="kept").info.run_id
        client.log_metric(run_id, "acc", 0.5)
        (tmp_path / "model.txt").write_text("weights")
        client.log_artifact(run_id, str(tmp_path / "model.txt"))

    created = heron("backup", "create", str(backups), *store_flags(data))
    assert created.exit_code == 0, created.output
    assert "1 artifact files" in created.output
    listed = heron("backup", "list", str(backups))
    assert listed.exit_code == 0, listed.output
    assert "sqlite" in listed.output
    verified = heron("backup", "verify", str(backups))
    assert verified.exit_code == 0, verified.output
    assert "is whole: 2 files" in verified.output

    done = heron("backup", "restore", str(backups), *store_flags(restored))
    assert done.exit_code == 0, done.output
    with HeronClient(str(restored)) as client:
        assert [(m.key, m.value) for m in client.get_run(run_id).data.metrics] == [("acc", 0.5)]
        target = tmp_path / "out"
        client.download_artifacts(run_id, "model.txt", str(target))
        assert (target / "model.txt").read_text() == "weights"

    again = heron("backup", "restore", str(backups), *store_flags(restored))
    assert again.exit_code == 1
    assert "not empty" in again.output
    forced = heron("backup", "restore", str(backups), "--force", *store_flags(restored))
    assert forced.exit_code == 0, forced.output


def test_verify_fails_with_the_damaged_file_named(tmp_path: Path) -> None:
    data, backups = tmp_path / "data", tmp_path / "backups"
    with HeronClient(str(data)) as client:
        client.log_text(client.create_run("0").info.run_id, "text", "a.txt")
    assert heron("backup", "create", str(backups), *store_flags(data)).exit_code == 0
    (blob,) = (backups / "blobs").glob("*/*")
    blob.write_bytes(b"tampered")
    result = heron("backup", "verify", str(backups))
    assert result.exit_code == 1
    assert blob.name in result.output
    assert "1 of 2 files are missing or damaged" in result.output


def test_keep_removes_older_backups(tmp_path: Path) -> None:
    data, backups = tmp_path / "data", tmp_path / "backups"
    with HeronClient(str(data)) as client:
        client.create_run("0")
    for _ in range(3):
        assert heron("backup", "create", str(backups), *store_flags(data)).exit_code == 0
    pruned = heron("backup", "create", str(backups), "--keep", "2", *store_flags(data))
    assert pruned.exit_code == 0, pruned.output
    assert pruned.output.count("Removed backup") == 2
    assert len(list((backups / "backups").iterdir())) == 2


def test_bad_keep_and_missing_backup_are_clear_errors(tmp_path: Path) -> None:
    bad = heron("backup", "prune", str(tmp_path), "--keep", "seven days")
    assert bad.exit_code == 1
    assert "give an age like 7d" in bad.output
    missing = heron("backup", "verify", str(tmp_path / "nothing"))
    assert missing.exit_code == 1
    assert "There is no backup" in missing.output
