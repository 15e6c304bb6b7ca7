"""`heron server`: builds the Settings and serves `create_app(settings)` with uvicorn."""

from __future__ import annotations

import dataclasses
import gc
import importlib.util
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from heron.cli.options import (
    artifacts_destination_option,
    backend_store_option,
    console,
    default_artifact_root_option,
    encryption_key_option,
    masked,
)
from heron.settings import Settings

if TYPE_CHECKING:
    from starlette.applications import Starlette

SETTINGS_ENV = "HERON_SERVER_SETTINGS"


def settings_to_env(settings: Settings) -> str:
    return json.dumps(dataclasses.asdict(settings))


def app_from_env() -> Starlette:
    """The app for uvicorn's worker processes, from the Settings the parent left in the env.

    `heron server --workers N` runs `uvicorn.run("heron.cli.server:app_from_env",
    factory=True)`; each worker builds its own app from `$HERON_SERVER_SETTINGS`."""
    from heron.app import create_app

    values: dict[str, Any] = json.loads(os.environ[SETTINGS_ENV])
    values["allowed_artifact_roots"] = tuple(values.get("allowed_artifact_roots", ()))
    values["webhook_allowed_hosts"] = tuple(values.get("webhook_allowed_hosts", ()))
    app = create_app(Settings(**values))
    tune_for_serving()
    return app


def tune_for_serving() -> None:
    """Tunes the garbage collector and, on glibc, the allocator for a server's load.

    Garbage collector: a server builds many short-lived dicts per request (a page of 1,000
    runs is ~40,000); with CPython's default thresholds that starts a collection every 700
    allocations, and the older generations rescan every module and object loaded at start-up.
    Freezing those and collecting less often took a 1,000-run search from about 215 to 165 ms.
    Reference cycles are still collected, just in bigger batches.

    Allocator: glibc gives every block of 128 KiB or more (or, once it adapts, of a few MiB)
    pages of its own and returns them at free. uvicorn receives a request body in pieces of up
    to 256 KiB and an upload joins them into 1 MiB, so each piece was fresh pages for the
    kernel to fault in and zero. Serving blocks under 4 MiB from the heap, and keeping up to
    64 MiB of it free instead of trimming at once, took a bare uvicorn app that writes a 1 GB
    upload to disk from 1.4-1.7 s to 1.0 s on a 2-core machine (either setting alone: no
    gain). Other C libraries: nothing to do."""
    import ctypes

    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    m_trim_threshold, m_mmap_threshold = -1, -3  # glibc's <malloc.h>
    mallopt(m_mmap_threshold, 4 << 20)
    mallopt(m_trim_threshold, 64 << 20)


def build_settings(
    *,
    backend_store_uri: str | None,
    artifacts_destination: str | None,
    default_artifact_root: str | None,
    serve_artifacts: bool,
    sqlite_synchronous: str,
    webhook_allowed_hosts: tuple[str, ...] = (),
    encryption_key: str | None = None,
) -> Settings:
    """Settings from the command line over the data directory's defaults."""
    settings = Settings.for_home(
        webhook_allowed_hosts=tuple(webhook_allowed_hosts),
        backend_store_uri=backend_store_uri,
        artifacts_destination=artifacts_destination,
        serve_artifacts=serve_artifacts,
        sqlite_synchronous=sqlite_synchronous.upper(),
        default_artifact_root=default_artifact_root,
        encryption_key=encryption_key,
    )
    if not serve_artifacts and default_artifact_root is None:
        # Without the proxy, clients write artifacts to the destination themselves.
        settings = dataclasses.replace(
            settings, default_artifact_root=settings.artifacts_destination
        )
    return settings


def _prepare_directories(settings: Settings) -> None:
    from heron.client.uri import sql_uri

    sql_uri(settings.backend_store_uri)  # creates the SQLite file's directory
    if "://" not in settings.artifacts_destination:
        Path(settings.artifacts_destination).mkdir(parents=True, exist_ok=True)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=5000, show_default=True)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Server processes (use PostgreSQL when more than one).",
)
@backend_store_option
@artifacts_destination_option
@default_artifact_root_option
@encryption_key_option
@click.option(
    "--serve-artifacts/--no-serve-artifacts",
    default=True,
    show_default=True,
    help="Proxy artifact uploads and downloads through the server.",
)
@click.option(
    "--sqlite-synchronous",
    type=click.Choice(["NORMAL", "FULL"], case_sensitive=False),
    default="NORMAL",
    show_default=True,
    help="NORMAL survives kill -9; FULL also survives a power cut.",
)
@click.option(
    "--webhook-allowed-host",
    "webhook_allowed_hosts",
    multiple=True,
    metavar="HOST[:PORT]",
    help="A host registry webhooks may call (repeatable). None by default: no webhooks.",
)
def server(
    host: str,
    port: int,
    workers: int,
    backend_store_uri: str | None,
    artifacts_destination: str | None,
    default_artifact_root: str | None,
    encryption_key: str | None,
    serve_artifacts: bool,
    sqlite_synchronous: str,
    webhook_allowed_hosts: tuple[str, ...],
) -> None:
    """Runs the tracking server (MLflow's REST API and Heron's own)."""
    import uvicorn

    settings = build_settings(
        backend_store_uri=backend_store_uri,
        artifacts_destination=artifacts_destination,
        default_artifact_root=default_artifact_root,
        encryption_key=encryption_key,
        serve_artifacts=serve_artifacts,
        sqlite_synchronous=sqlite_synchronous,
        webhook_allowed_hosts=webhook_allowed_hosts,
    )
    _prepare_directories(settings)
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_level": "warning",
        "access_log": False,
        "loop": "uvloop" if importlib.util.find_spec("uvloop") else "auto",
        "http": "httptools" if importlib.util.find_spec("httptools") else "auto",
    }
    shown_host = f"[{host}]" if ":" in host else host
    console.print(f"Heron server at [bold]http://{shown_host}:{port}[/bold]")
    console.print(f"  backend store: {masked(settings.backend_store_uri)}")
    console.print(f"  artifacts:     {masked(settings.artifacts_destination)}")
    if settings.encryption_key:
        console.print(f"  encryption:    AES-256-GCM, key {settings.encryption_key}")
    if workers == 1:
        from heron.app import create_app

        app = create_app(settings)
        tune_for_serving()
        uvicorn.run(app, **options)
    else:
        os.environ[SETTINGS_ENV] = settings_to_env(settings)
        uvicorn.run(f"{__name__}:app_from_env", factory=True, workers=workers, **options)
