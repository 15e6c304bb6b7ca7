"""`heron export` and `heron import`: copy everything between this server's store and another
Heron or an MLflow server (or a Heron data directory), with progress bars."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

from heron.cli.options import (
    artifacts_destination_option,
    backend_store_option,
    console,
    encryption_key_option,
)

F = TypeVar("F", bound=Callable[..., Any])

if TYPE_CHECKING:
    from heron.client.client import HeronClient
    from heron.transfer import Transfer


class _Bars:
    """One progress bar per aggregate (the `heron.transfer.Progress` protocol)."""

    def __init__(self, bars: Progress) -> None:
        self._bars = bars
        self._tasks: dict[str, TaskID] = {}

    def start(self, aggregate: str, total: int | None) -> None:
        self._tasks[aggregate] = self._bars.add_task(aggregate, total=total)

    def advance(self, aggregate: str, n: int = 1) -> None:
        self._bars.advance(self._tasks[aggregate], n)


@contextmanager
def _bars() -> Iterator[_Bars]:
    with Progress(
        TextColumn("{task.description:<18}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=Console(stderr=True),
    ) as bars:
        yield _Bars(bars)


def _store_client(
    backend_store_uri: str | None, artifacts_destination: str | None, encryption_key: str | None
) -> HeronClient:
    from heron.client.client import HeronClient
    from heron.client.local import LocalBackend
    from heron.settings import Settings

    settings = Settings.for_home(
        backend_store_uri=backend_store_uri, artifacts_destination=artifacts_destination
    )
    backend = LocalBackend(
        settings.backend_store_uri,
        artifacts_destination=settings.artifacts_destination,
        encryption_key=encryption_key,
    )
    return HeronClient(settings.backend_store_uri, backend=backend)


def _run(source: HeronClient, target: HeronClient, verb: str, where: str) -> None:
    from heron.transfer import Transfer, run_transfer

    try:
        with _bars() as bars:
            done: Transfer = run_transfer(Transfer(source, target, progress=bars))
    finally:
        source.close()
        target.close()
    for aggregate, counts in done.counts.items():
        console.print(f"{aggregate}: {counts.copied} {verb}, {counts.skipped} already in {where}")


def store_options(func: F) -> F:
    """This store's flags, as `heron server` takes them (and its encryption key)."""
    return backend_store_option(artifacts_destination_option(encryption_key_option(func)))


def _other_side(place: str | None, mlflow_url: str | None, flag: str) -> str:
    if (place is None) == (mlflow_url is None):
        raise click.UsageError(f"Give a server URL or data directory, or {flag} URL (one)")
    return place or mlflow_url or ""


@click.command("export")
@click.argument("destination", metavar="DEST", required=False)
@click.option("--to-mlflow", "mlflow_url", metavar="URL", help="An MLflow server to write into.")
@store_options
def export(
    destination: str | None,
    mlflow_url: str | None,
    backend_store_uri: str | None,
    artifacts_destination: str | None,
    encryption_key: str | None,
) -> None:
    """Copies this store's experiments, runs (whole metric histories), artifacts, logged
    models, registered models and prompts, and traces to DEST: a Heron or MLflow server URL,
    or a Heron data directory. Run it again to copy only what is new."""
    from heron.client.client import HeronClient

    place = _other_side(destination, mlflow_url, "--to-mlflow")
    source = _store_client(backend_store_uri, artifacts_destination, encryption_key)
    _run(source, HeronClient(place), "exported", place)


@click.command("import")
@click.argument("source", metavar="SRC", required=False)
@click.option("--from-mlflow", "mlflow_url", metavar="URL", help="An MLflow server to read.")
@store_options
def import_(
    source: str | None,
    mlflow_url: str | None,
    backend_store_uri: str | None,
    artifacts_destination: str | None,
    encryption_key: str | None,
) -> None:
    """Copies everything from SRC (a Heron or MLflow server URL, or a Heron data directory)
    into this store: the one-command way off MLflow. Run it again to copy only what is new."""
    from heron.client.client import HeronClient

    place = _other_side(source, mlflow_url, "--from-mlflow")
    target = _store_client(backend_store_uri, artifacts_destination, encryption_key)
    _run(HeronClient(place), target, "imported", "this store")
