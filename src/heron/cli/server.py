"""`heron server`: builds the Settings and serves `create_app(settings)` with uvicorn."""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import gc
import importlib.util
import os
import signal
import socket
import tempfile
from collections.abc import Iterator
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
    sensitive_keys_option,
)
from heron.cli.server_security import (
    bootstrap_admin,
    enable_access_log,
    security_options,
    tls_options,
    warn_if_open,
)
from heron.cli.worker import job_workers as job_workers_running
from heron.cli.worker import settings_from_env, settings_to_env
from heron.settings import Settings, sensitive_key_patterns

if TYPE_CHECKING:
    from starlette.applications import Starlette

SETTINGS_ENV = "HERON_SERVER_SETTINGS"


def app_from_env() -> Starlette:
    """The app for uvicorn's worker processes, from the Settings the parent left in the env.

    `heron server --workers N` runs `uvicorn.run("heron.cli.server:app_from_env",
    factory=True)`; each worker builds its own app from `$HERON_SERVER_SETTINGS`."""
    from heron.app import create_app

    settings = settings_from_env(os.environ[SETTINGS_ENV])
    app = create_app(settings)
    tune_for_serving()
    enable_access_log(settings)
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
    **security: Any,
) -> Settings:
    """Settings from the command line over the data directory's defaults."""
    settings = Settings.for_home(
        **security,
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
@sensitive_keys_option
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
@click.option(
    "--serve-endpoints/--no-serve-endpoints",
    default=False,
    show_default=True,
    help="Start and supervise replicas (heron serving worker processes) of every serving "
    "endpoint on this machine.",
)
@click.option(
    "--endpoint-replicas",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Replicas of each serving endpoint with --serve-endpoints.",
)
@click.option(
    "--job-workers",
    type=click.IntRange(min=0),
    default=1,
    show_default=True,
    help="heron worker processes to start for deployment jobs (0: run them elsewhere).",
)
@click.option("--job-task-module", "job_task_modules", multiple=True, metavar="MODULE",
              help="A module whose functions custom job tasks may call (repeatable).")  # fmt: skip
@click.option("--job-task-command", "job_task_commands", multiple=True, metavar="PROGRAM",
              help="A program custom job tasks may run (repeatable).")  # fmt: skip
@security_options
def server(
    host: str,
    port: int,
    workers: int,
    backend_store_uri: str | None,
    artifacts_destination: str | None,
    default_artifact_root: str | None,
    encryption_key: str | None,
    sensitive_keys: str | None,
    serve_artifacts: bool,
    sqlite_synchronous: str,
    webhook_allowed_hosts: tuple[str, ...],
    serve_endpoints: bool,
    endpoint_replicas: int,
    job_workers: int,
    job_task_modules: tuple[str, ...],
    job_task_commands: tuple[str, ...],
    **security: Any,
) -> None:
    """Runs the tracking server (MLflow's REST API and Heron's own)."""
    import uvicorn

    tls = tls_options(security)
    if sensitive_keys and not encryption_key:
        raise click.UsageError("--sensitive-keys needs --encryption-key: they are encrypted")
    settings = build_settings(
        backend_store_uri=backend_store_uri,
        artifacts_destination=artifacts_destination,
        default_artifact_root=default_artifact_root,
        encryption_key=encryption_key,
        serve_artifacts=serve_artifacts,
        sqlite_synchronous=sqlite_synchronous,
        webhook_allowed_hosts=webhook_allowed_hosts,
        listen_host=host,
        job_workers=job_workers,
        job_task_modules=job_task_modules,
        job_task_commands=job_task_commands,
        sensitive_keys=sensitive_key_patterns(sensitive_keys),
        **{k: tuple(v) if isinstance(v, list | tuple) else v for k, v in security.items()},
    )
    _prepare_directories(settings)
    bootstrap_admin(settings)
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_level": "warning",
        "access_log": False,  # Heron writes its own (server/hardening.py)
        **tls,
        "loop": "uvloop" if importlib.util.find_spec("uvloop") else "auto",
        "http": "httptools" if importlib.util.find_spec("httptools") else "auto",
    }
    sock = bind_listener(host, port)  # the banner only once the address is ours
    shown_host = f"[{host}]" if ":" in host else host
    scheme = "https" if tls else "http"
    console.print(f"Heron server at [bold]{scheme}://{shown_host}:{sock.getsockname()[1]}[/bold]")
    console.print(f"  backend store: {masked(settings.backend_store_uri)}")
    console.print(f"  artifacts:     {masked(settings.artifacts_destination)}")
    console.print(f"  auth:          {'on' if settings.auth else 'off'}")
    warn_if_open(settings)
    if settings.encryption_key:
        console.print(f"  encryption:    AES-256-GCM, key {settings.encryption_key}")
        sealed = ", ".join(settings.sensitive_keys) or "none"
        console.print(f"  sealed keys:   params and tags matching {sealed}")
    if serve_endpoints or job_workers:
        # uvicorn re-raises the SIGTERM it stopped on once it is done: leave through the
        # blocks' `finally` (which stop the workers) instead of dying of the signal there.
        signal.signal(signal.SIGTERM, _exit_on_signal)
    replicas = endpoint_replicas if serve_endpoints else 0
    with _endpoint_replicas(settings, replicas), job_workers_running(settings):
        if workers == 1:
            from heron.app import create_app

            app = create_app(settings)
            tune_for_serving()
            enable_access_log(settings)
            uvicorn.Server(uvicorn.Config(app, **options)).run(sockets=[sock])
        else:
            from uvicorn.supervisors import Multiprocess

            os.environ[SETTINGS_ENV] = settings_to_env(settings)
            with tempfile.TemporaryDirectory(prefix="heron-metrics-") as metrics_dir:
                # /metrics adds up every worker's samples, whichever worker answers.
                os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", metrics_dir)
                config = uvicorn.Config(
                    f"{__name__}:app_from_env", factory=True, workers=workers, **options
                )
                Multiprocess(config, sockets=[sock]).run()


def _exit_on_signal(signum: int, frame: object) -> None:
    raise SystemExit(0)


@contextlib.contextmanager
def _endpoint_replicas(settings: Settings, replicas: int) -> Iterator[None]:
    """With `replicas` > 0, workers of every serving endpoint run (and are restarted) while
    the block runs, and are stopped after it."""
    if replicas == 0:
        yield
        return
    from heron.services import AllowAll
    from heron.services.build import build_services
    from heron.serving.supervisor import Supervisor
    from heron.store.crypto.fields import field_cipher
    from heron.store.sql import open_sql_stores

    stores = open_sql_stores(
        settings.backend_store_uri,
        default_artifact_root=settings.default_artifact_root,
        fields=field_cipher(
            settings.encryption_key,
            cache_s=settings.key_cache_s,
            sensitive_keys=settings.sensitive_keys,
        ),
    )
    services = build_services(stores, AllowAll(), settings)
    supervisor = Supervisor(services.endpoints, settings, replicas=replicas, drift=services.drift)
    supervisor.start()
    console.print(f"  serving endpoints: {replicas} replica(s) each, on this machine")
    try:
        yield
    finally:
        supervisor.stop()
        services.close()


def bind_listener(host: str, port: int) -> socket.socket:
    """A TCP socket bound to host:port (port 0: any free one), for uvicorn to listen on.

    Raises:
        click.ClickException: the address is taken or cannot be had; says which flag changes it.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise click.ClickException(
                f"port {port} on {host} is already in use; choose another with --port "
                f"(for example --port {port + 1 if 0 < port < 65535 else 5001}), or stop what "
                "listens there"
            ) from None
        raise click.ClickException(
            f"cannot listen on {host}:{port} ({exc.strerror or exc}); change the address with "
            "--host or the port with --port"
        ) from None
    sock.set_inheritable(True)
    return sock
