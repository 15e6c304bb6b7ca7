"""A real server with `--auth` on (uvicorn in a thread), its admin made as an operator would."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

ADMIN = ("root", "root-password")


@dataclass
class AuthServer:
    url: str
    database_uri: str

    def client(self, auth: Any = None, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=self.url, auth=auth, timeout=30, **kwargs)

    def admin(self) -> httpx.Client:
        return self.client(ADMIN)


def make_admin(database_uri: str) -> None:
    """The first admin, as `heron admin create-user root --admin` makes it."""
    from heron.services.security.bundle import build_security
    from heron.store.sql import open_sql_stores

    stores = open_sql_stores(database_uri, default_artifact_root="mlflow-artifacts:")
    try:
        build_security(stores.security).principals.bootstrap_admin(*ADMIN)
    finally:
        stores.close()


@contextlib.contextmanager
def serve_with_auth(
    tmp_path: Path, serve_settings: Any, uri: str | None = None, **overrides: Any
) -> Iterator[AuthServer]:
    """A server with --auth on a fresh database (SQLite unless `uri`) whose first admin is
    `ADMIN`."""
    from heron.settings import Settings

    uri = uri or f"sqlite:///{tmp_path}/heron.db"
    make_admin(uri)
    settings = Settings(
        backend_store_uri=uri, artifacts_destination=str(tmp_path / "artifacts"), auth=True,
        **overrides,
    )  # fmt: skip
    with serve_settings(settings) as url:
        yield AuthServer(url, uri)


@pytest.fixture
def auth_server(tmp_path: Path, serve_settings: Any, database_uri: str) -> Iterator[AuthServer]:
    """A server with --auth, once on SQLite and once on PostgreSQL."""
    with serve_with_auth(tmp_path, serve_settings, database_uri) as server:
        yield server


def create_user(server: AuthServer, name: str, password: str) -> None:
    with server.admin() as admin:
        resp = admin.post(
            "/api/2.0/mlflow/users/create", json={"username": name, "password": password}
        )
        assert resp.status_code == 200, resp.text
