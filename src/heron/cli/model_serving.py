"""`heron models serve` and `heron models generate-dockerfile`: a model as a REST endpoint."""

from __future__ import annotations

from pathlib import Path

import click

from heron.cli.options import tracking_uri_option

_MODEL_URI = click.option(
    "-m",
    "--model-uri",
    required=True,
    help="runs:/..., models:/<name>/<version>, models:/<name>@<alias>, models:/<model_id>, "
    "s3://... or a local path.",
)


@click.command("serve", context_settings={"help_option_names": ["--help"]})
@_MODEL_URI
@click.option("-h", "--host", default="127.0.0.1", show_default=True, help="Where to listen.")
@click.option("-p", "--port", default=5000, show_default=True, type=int)
@click.option("-w", "--workers", default=1, show_default=True, type=int,
              help="Server processes, each with its own copy of the model.")  # fmt: skip
@click.option("-t", "--timeout", "timeout_s", default=60.0, show_default=True, type=float,
              help="Seconds before an unanswered request gets 504.")  # fmt: skip
@click.option(
    "--env-manager",
    type=click.Choice(["local", "virtualenv"]),
    default="local",
    show_default=True,
    help="local: this Python environment; virtualenv: one built from the model's "
    "requirements (cached by their hash).",
)
@click.option(
    "--batching",
    type=click.Choice(["auto", "on", "off"]),
    default="auto",
    show_default=True,
    help="Score requests that arrive together in one predict call. auto: for scikit-learn, "
    "XGBoost and LightGBM models; on: any model (only for models that score rows "
    "independently).",
)
@click.option("--max-batch-rows", default=1024, show_default=True, type=int,
              help="The most rows in one predict call.")  # fmt: skip
@click.option(
    "--max-latency-ms",
    default=10_000.0,
    show_default=True,
    type=float,
    help="Requests that cannot be answered within this bound are refused with 429 and "
    "Retry-After; 0 for no bound.",
)
@click.option(
    "--tracing",
    type=click.Choice(["auto", "on", "off"]),
    default="auto",
    show_default=True,
    help="Trace each request (the trace id in the x-heron-trace-id header) to the tracking "
    "URI. auto: for models that are not batched (agents, custom models), when a tracking URI "
    "is set.",
)
@tracking_uri_option
def serve(
    model_uri: str,
    host: str,
    port: int,
    workers: int,
    timeout_s: float,
    env_manager: str,
    batching: str,
    max_batch_rows: int,
    max_latency_ms: float,
    tracing: str,
    tracking_uri: str | None,
) -> None:
    """Serves a model over HTTP with MLflow's scoring protocol: POST /invocations,
    GET /ping, /health, /version, and /metrics (Prometheus). Loading the model runs its
    code: only serve models you trust."""
    import os

    from heron.serving.server import ServeOptions, serve

    if tracking_uri:  # for the worker processes and the request traces too
        os.environ["HERON_TRACKING_URI"] = tracking_uri
    model_dir = _local_model(model_uri, tracking_uri)
    options = ServeOptions(
        model_dir=str(model_dir),
        host=host,
        port=port,
        workers=workers,
        timeout_s=timeout_s,
        batching=batching,
        max_batch_rows=max_batch_rows,
        max_latency_ms=max_latency_ms or None,
        tracing=tracing,
    )
    if env_manager == "virtualenv":
        from heron.serving.environments import serve_in_virtualenv

        serve_in_virtualenv(options)
        return
    serve(options)


@click.command("generate-dockerfile")
@_MODEL_URI
@click.option(
    "-d",
    "--output-directory",
    default="heron-dockerfile",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to write the Dockerfile and the model (the build context).",
)
@tracking_uri_option
def generate_dockerfile(model_uri: str, output_directory: Path, tracking_uri: str | None) -> None:
    """Writes a Dockerfile (and copies the model beside it) for an image that serves the
    model with `heron models serve` on port 8080."""
    from heron.serving.dockerfile import write_build_context

    model_dir = _local_model(model_uri, tracking_uri)
    dockerfile = write_build_context(model_dir, output_directory)
    click.echo(f"Wrote {dockerfile}; build it with: docker build -t my-model {output_directory}")


def _local_model(model_uri: str, tracking_uri: str | None) -> Path:
    import heron
    from heron.models.uri import download_model

    if tracking_uri:
        heron.set_tracking_uri(tracking_uri)
    return download_model(model_uri)
