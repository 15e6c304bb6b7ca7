"""`heron serving worker`: a replica of a managed serving endpoint, in a process of its own."""

from __future__ import annotations

import os

import click

from heron.cli.options import artifacts_destination_option, backend_store_option


@click.group("serving")
def serving() -> None:
    """Managed serving endpoints: their replicas."""


@serving.command("worker")
@click.option("--endpoint", required=True, help="The serving endpoint to serve.")
@click.option("--replica-id", default="", help="This replica's id (a restart keeps it).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Where to listen.")
@click.option("--port", default=0, show_default=True, type=click.IntRange(0, 65535),
              help="0: any free port.")  # fmt: skip
@click.option(
    "--advertise-url",
    default=None,
    help="The URL the tracking server reaches this replica at (default: http://HOST:PORT).",
)
@backend_store_option
@artifacts_destination_option
@click.option("--timeout", "timeout_s", default=60.0, show_default=True, type=float,
              help="Seconds before an unanswered request gets 504.")  # fmt: skip
@click.option("--batching", type=click.Choice(["auto", "on", "off"]), default="auto",
              show_default=True)  # fmt: skip
@click.option("--tracing", type=click.Choice(["auto", "on", "off"]), default="auto",
              show_default=True, help="Trace requests into the tracking database.")  # fmt: skip
def worker(
    endpoint: str,
    replica_id: str,
    host: str,
    port: int,
    advertise_url: str | None,
    backend_store_uri: str | None,
    artifacts_destination: str | None,
    timeout_s: float,
    batching: str,
    tracing: str,
) -> None:
    """Serves one endpoint's models, following its configuration in the database (and the
    aliases it follows) until the endpoint is deleted or the process is stopped. Loading a
    model runs its code: this process is the only one that does."""
    import logging

    from heron.cli.server import build_settings
    from heron.services import AllowAll
    from heron.services.build import build_services
    from heron.serving.server import ServeOptions
    from heron.serving.worker import WorkerOptions, run_worker
    from heron.store.sql import open_sql_stores

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    settings = build_settings(
        backend_store_uri=backend_store_uri,
        artifacts_destination=artifacts_destination,
        default_artifact_root=None,
        serve_artifacts=True,
        sqlite_synchronous="NORMAL",
    )
    # Request traces go to the same database, unless a tracking URI says otherwise.
    os.environ.setdefault("HERON_TRACKING_URI", settings.backend_store_uri)
    stores = open_sql_stores(
        settings.backend_store_uri, default_artifact_root=settings.default_artifact_root
    )
    services = build_services(stores, AllowAll(), settings)
    options = WorkerOptions(
        endpoint=endpoint,
        replica_id=replica_id,
        host=host,
        port=port,
        advertise_url=advertise_url,
        serve=ServeOptions(model_dir="", timeout_s=timeout_s, batching=batching, tracing=tracing),
    )
    try:
        run_worker(services, options)
    finally:
        services.close()
