"""`heron admin` and `heron audit`: the first admin from the command line, the chain checked."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import httpx
import yaml
from click.testing import CliRunner, Result
from tests.conftest import ServerProcess

from heron.cli.main import main


def heron_cli(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(main, list(args), input=stdin, env={"COLUMNS": "200"})


def test_create_users_then_verify_and_export_the_audit_log(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path}/heron.db"
    made = heron_cli("admin", "create-user", "root", "--admin", "--password-stdin",
                     "--backend-store-uri", uri, stdin="root-password\n")  # fmt: skip
    assert made.exit_code == 0, made.output
    assert "Created admin root" in made.output
    short = heron_cli("admin", "create-user", "bob", "--password-stdin",
                      "--backend-store-uri", uri, stdin="short\n")  # fmt: skip
    assert short.exit_code == 1
    assert "at least 8 characters" in short.output
    verified = heron_cli("audit", "verify", "--backend-store-uri", uri)
    assert verified.exit_code == 0, verified.output
    assert "Audit log intact: 1 entries" in verified.output
    exported = heron_cli("audit", "export", "--backend-store-uri", uri)
    lines = [json.loads(line) for line in exported.output.splitlines()]
    assert [(e["action"], e["principal"], e["object_id"]) for e in lines] == [
        ("create_user", "heron-admin", "root")
    ]
    with sqlite3.connect(tmp_path / "heron.db") as conn:
        conn.execute("UPDATE audit_log SET principal = 'someone-else'")
    broken = heron_cli("audit", "verify", "--backend-store-uri", uri)
    assert broken.exit_code == 1
    assert "entry 1 does not match its hash" in broken.output


class ConfiguredServer(ServerProcess):
    config: Path = Path()

    def command(self) -> list[str]:
        return [*super().command(), "--config", str(self.config)]


def test_server_options_come_from_a_config_file(tmp_path: Path) -> None:
    config = tmp_path / "heron.yaml"
    config.write_text(
        yaml.safe_dump({"auth": True, "max-request-bytes": 4096, "enable-workspaces": True})
    )
    data = tmp_path / "server"
    data.mkdir()
    server = ConfiguredServer(data_dir=data)
    server.config = config
    try:
        server.start()
        with httpx.Client(base_url=server.url) as client:
            assert client.get("/api/2.0/mlflow/experiments/search").status_code == 401
            info = client.get("/api/3.0/mlflow/server-info").json()
            assert info["workspaces_enabled"] is True
    finally:
        server.stop()
    assert "auth:          on" in server.log_path.read_text()
