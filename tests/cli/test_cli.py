"""The `heron` command line, through click's runner and as a real `heron server` process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from heron import HeronClient
from heron.cli.main import main
from heron.cli.server import SETTINGS_ENV, build_settings, settings_to_env
from heron.settings import Settings


def heron_cli(*args: str, **env: str) -> Result:
    return CliRunner().invoke(main, list(args), env={"COLUMNS": "200", **env})


@pytest.fixture
def data_dir(tmp_path: Path) -> str:
    return str(tmp_path / "data")


def test_experiments_create_list_and_delete(data_dir: str) -> None:
    created = heron_cli("experiments", "create", "-n", "cli-exp", "--tracking-uri", data_dir)
    listed = heron_cli("experiments", "list", "--tracking-uri", data_dir)
    deleted = heron_cli("experiments", "delete", "-x", "1", "--tracking-uri", data_dir)
    after = heron_cli("experiments", "list", "--tracking-uri", data_dir, "--view", "deleted_only")

    assert created.exit_code == 0, created.output
    assert "Created experiment 'cli-exp' with id 1" in created.output
    assert "cli-exp" in listed.output
    assert "Default" in listed.output
    assert deleted.exit_code == 0
    assert "cli-exp" in after.output
    assert "Default" not in after.output


def test_tracking_uri_defaults_to_heron_home(tmp_path: Path) -> None:
    env = {
        "HERON_HOME": str(tmp_path / "home"),
        "HERON_TRACKING_URI": "",
        "MLFLOW_TRACKING_URI": "",
    }
    result = heron_cli("experiments", "create", "-n", "homed", **env)

    assert result.exit_code == 0, result.output
    assert (tmp_path / "home" / "heron.db").exists()


def test_runs_list_and_describe(data_dir: str) -> None:
    with HeronClient(data_dir) as client:
        run = client.create_run("0", run_name="described", tags={"team": "t1"})
        run_id = run.info.run_id
        client.log_param(run_id, "lr", 0.1)
        client.log_metric(run_id, "loss", 0.25, step=7)
        client.set_terminated(run_id)

    listed = heron_cli("runs", "list", "--experiment-id", "0", "--tracking-uri", data_dir)
    described = heron_cli("runs", "describe", run_id, "--tracking-uri", data_dir)

    assert listed.exit_code == 0, listed.output
    assert run_id in listed.output
    assert "described" in listed.output
    assert "FINISHED" in listed.output
    assert described.exit_code == 0, described.output
    for text in (run_id, "lr", "0.1", "loss", "0.25", "team", "t1", "FINISHED"):
        assert text in described.output


def test_a_missing_run_is_one_clean_error_line_and_exit_code_1(data_dir: str) -> None:
    missing = uuid.uuid4().hex
    result = heron_cli("runs", "describe", missing, "--tracking-uri", data_dir)

    assert result.exit_code == 1
    assert result.output.strip().startswith("Error: ")
    assert missing in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_an_unreachable_server_is_a_clean_error() -> None:
    result = heron_cli("experiments", "list", "--tracking-uri", "http://127.0.0.1:9")

    assert result.exit_code == 1
    assert result.output.startswith("Error: Could not reach the tracking server")


def test_commands_work_against_a_live_server(live_server: str) -> None:
    created = heron_cli("experiments", "create", "-n", "remote", "--tracking-uri", live_server)
    listed = heron_cli("experiments", "list", "--tracking-uri", live_server)

    assert created.exit_code == 0, created.output
    assert "remote" in listed.output


def test_db_upgrade_migrates_a_new_database_then_reports_it_is_current(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path}/sub/fresh.db"

    first = heron_cli("db", "upgrade", "--backend-store-uri", uri)
    second = heron_cli("db", "upgrade", "--backend-store-uri", uri)

    assert first.exit_code == 0, first.output
    assert "Upgraded" in first.output
    assert second.exit_code == 0, second.output
    assert "up to date" in second.output


def test_db_upgrade_of_an_unreachable_database_is_a_clean_error() -> None:
    result = heron_cli("db", "upgrade", "--backend-store-uri", "postgresql://u:pw@127.0.0.1:9/x")

    assert result.exit_code == 1
    assert result.output.startswith("Error: Could not upgrade postgresql://u:***@127.0.0.1:9/x")
    assert "pw" not in result.output


def test_server_settings_come_from_the_options_and_survive_the_env_round_trip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HERON_HOME", str(tmp_path))
    settings = build_settings(
        backend_store_uri=None,
        artifacts_destination="s3://bucket/artifacts",
        default_artifact_root=None,
        serve_artifacts=True,
        sqlite_synchronous="full",
    )

    assert settings == Settings.for_home(
        tmp_path, artifacts_destination="s3://bucket/artifacts", sqlite_synchronous="FULL"
    )
    monkeypatch.setenv(SETTINGS_ENV, settings_to_env(settings))
    from heron.cli.server import app_from_env

    assert app_from_env() is not None


def test_without_serving_artifacts_new_experiments_use_the_destination(tmp_path: Path) -> None:
    settings = build_settings(
        backend_store_uri=f"sqlite:///{tmp_path}/h.db",
        artifacts_destination=str(tmp_path / "art"),
        default_artifact_root=None,
        serve_artifacts=False,
        sqlite_synchronous="NORMAL",
    )
    assert settings.default_artifact_root == str(tmp_path / "art")
    assert settings.serve_artifacts is False


def test_heron_server_process_answers_health_and_prints_its_url(server_process: Any) -> None:
    with urllib.request.urlopen(f"{server_process.url}/health", timeout=5) as resp:  # noqa: S310
        assert resp.status == 200
    with HeronClient(server_process.url) as client:
        assert client.get_experiment("0").name == "Default"
    assert server_process.url in server_process.log_path.read_text()


def _wait_for_health(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, "heron server exited"
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as resp:  # noqa: S310
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"{url}/health did not answer")


@pytest.mark.slow
def test_heron_server_with_two_workers_serves_from_the_app_factory(tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "HERON_HOME": str(tmp_path)}
    cmd = [sys.executable, "-m", "heron.cli", "server", "--port", str(port), "--workers", "2"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for_health(f"http://127.0.0.1:{port}", proc)
        with HeronClient(f"http://127.0.0.1:{port}") as client:
            experiment_id = client.create_experiment("two-workers")
            assert client.get_experiment(experiment_id).name == "two-workers"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_port_in_use_is_one_error_naming_the_flag_and_no_banner(
    tmp_path: Path, workers: str
) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "heron.cli", "server", "--port", str(port), "--workers",
             workers],
            env={**os.environ, "HERON_HOME": str(tmp_path)},
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 1
    assert "Heron server at" not in output
    assert f"port {port} on 127.0.0.1 is already in use" in output
    assert "--port" in output
    assert "Traceback" not in output


def test_port_zero_prints_the_port_it_got(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "heron.cli", "server", "--port", "0"],
        env={**os.environ, "HERON_HOME": str(tmp_path)},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        banner = proc.stdout.readline()
        assert banner.startswith("Heron server at http://127.0.0.1:")
        url = banner.split(" at ", 1)[1].strip()
        assert not url.endswith(":0")
        _wait_for_health(url, proc)  # type: ignore[arg-type]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        if proc.stdout is not None:
            proc.stdout.close()
