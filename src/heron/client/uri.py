"""Which tracking URI is in effect, and what kind of backend it names."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlparse

from heron.settings import Settings, heron_home

TRACKING_URI_ENV_VARS = ("HERON_TRACKING_URI", "MLFLOW_TRACKING_URI")
_SQL_SCHEMES = ("sqlite", "postgresql", "postgres", "mysql", "mssql")

Kind = Literal["http", "sql"]


def tracking_uri_from_env() -> str | None:
    """`$HERON_TRACKING_URI`, else `$MLFLOW_TRACKING_URI`, else None."""
    for name in TRACKING_URI_ENV_VARS:
        value = os.environ.get(name, "").strip()
        if value:
            return value
    return None


def default_tracking_uri() -> str:
    """The local data directory (`$HERON_HOME` or `./heron-data`)."""
    return str(heron_home())


_chosen: list[str] = []  # what set_tracking_uri chose, for the whole process (as MLflow's)


def choose_tracking_uri(uri: str | None) -> None:
    """The URI every client without one of its own follows (None: the environment's)."""
    _chosen[:] = [] if uri is None or not uri.strip() else [uri.strip()]


def chosen_tracking_uri() -> str | None:
    """What `choose_tracking_uri` set, if anything."""
    return _chosen[0] if _chosen else None


def resolve_tracking_uri(uri: str | None) -> str:
    """The URI given, else the one `heron.set_tracking_uri` chose, else the environment's,
    else the local data directory."""
    return (
        (uri or "").strip()
        or chosen_tracking_uri()
        or tracking_uri_from_env()
        or default_tracking_uri()
    )


def backend_kind(uri: str) -> Kind:
    scheme = uri.split(":", 1)[0].lower() if "://" in uri else ""
    return "http" if scheme in ("http", "https") else "sql"


def sql_uri(uri: str) -> str:
    """The database URI behind a non-HTTP tracking URI.

    A SQLAlchemy URI (`sqlite:///...`, `postgresql://...`) is used as is; a path or a
    `file:` URI names a Heron data directory, whose database is `<dir>/heron.db`."""
    scheme = uri.split(":", 1)[0].lower() if ":" in uri else ""
    if scheme.split("+", 1)[0] in _SQL_SCHEMES:
        if scheme == "sqlite" and uri.startswith("sqlite:///"):
            path = uri[len("sqlite:///") :]
            if path and path != ":memory:":
                Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
        return uri
    home = Path(unquote(urlparse(uri).path) if scheme == "file" else uri).expanduser().resolve()
    home.mkdir(parents=True, exist_ok=True)
    return Settings.for_home(home).backend_store_uri
