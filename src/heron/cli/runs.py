"""`heron runs list|describe`."""

from __future__ import annotations

import click
from rich.table import Table

from heron.cli.options import (
    VIEW_TYPES,
    console,
    format_duration,
    format_time,
    tracking_uri_option,
    view_option,
)
from heron.client import HeronClient
from heron.entities import ViewType


@click.group()
def runs() -> None:
    """List runs and show one in detail."""


@runs.command("list")
@tracking_uri_option
@click.option("-x", "--experiment-id", required=True, help="The experiment whose runs to list.")
@click.option("--filter", "filter_string", default="", help='e.g. "metrics.acc > 0.9"')
@click.option("--order-by", multiple=True, help='e.g. "metrics.acc DESC" (repeatable)')
@view_option
@click.option("--max-results", type=click.IntRange(min=1), default=1000, show_default=True)
def list_runs(
    tracking_uri: str | None,
    experiment_id: str,
    filter_string: str,
    order_by: tuple[str, ...],
    view: str,
    max_results: int,
) -> None:
    """Shows the runs of an experiment in a table, newest first."""
    view_type = ViewType(VIEW_TYPES[view.lower()])
    with HeronClient(tracking_uri) as client:
        page = client.search_runs(
            experiment_id, filter_string, view_type, max_results, list(order_by) or None
        )
    table = Table(title=f"Runs of experiment {experiment_id}")
    table.add_column("Run ID", no_wrap=True, min_width=32)
    # Name and status never shrink to an ellipsis; the time columns give way first.
    table.add_column("Name", no_wrap=True)
    table.add_column("Status", no_wrap=True)
    for header in ("Started", "Duration", "User"):
        table.add_column(header)
    for r in page:
        i = r.info
        table.add_row(
            i.run_id,
            i.run_name,
            str(i.status),
            format_time(i.start_time),
            format_duration(i.start_time, i.end_time),
            i.user_id,
        )
    console.print(table)


@runs.command("describe")
@tracking_uri_option
@click.argument("run_id")
def describe_run(tracking_uri: str | None, run_id: str) -> None:
    """Shows one run: its info, params, latest metrics, tags and dataset inputs."""
    with HeronClient(tracking_uri) as client:
        run = client.get_run(run_id)
    i = run.info
    info = Table(title=f"Run {i.run_id}", show_header=False)
    info.add_column("Field", no_wrap=True)
    info.add_column("Value", overflow="fold")
    for field, value in (
        ("run_id", i.run_id),
        ("run_name", i.run_name),
        ("experiment_id", i.experiment_id),
        ("status", str(i.status)),
        ("user_id", i.user_id),
        ("start_time", format_time(i.start_time)),
        ("end_time", format_time(i.end_time)),
        ("duration", format_duration(i.start_time, i.end_time)),
        ("artifact_uri", i.artifact_uri),
        ("lifecycle_stage", str(i.lifecycle_stage)),
    ):
        info.add_row(field, value)
    console.print(info)
    if run.data.params:
        params = Table("Param", "Value", title="Params")
        for key, value in sorted(run.data.params.items()):
            params.add_row(key, value)
        console.print(params)
    if run.data.metrics:
        metrics = Table("Metric", "Value", "Step", "Time", title="Metrics (latest)")
        for m in sorted(run.data.metrics, key=lambda m: m.key):
            metrics.add_row(m.key, f"{m.value:g}", str(m.step), format_time(m.timestamp))
        console.print(metrics)
    if run.data.tags:
        tags = Table("Tag", "Value", title="Tags")
        for key, value in sorted(run.data.tags.items()):
            tags.add_row(key, value)
        console.print(tags)
    if run.dataset_inputs:
        inputs = Table("Dataset", "Digest", "Source type", "Tags", title="Inputs")
        for d in run.dataset_inputs:
            tag_text = ", ".join(f"{t.key}={t.value}" for t in d.tags)
            inputs.add_row(d.dataset.name, d.dataset.digest, d.dataset.source_type, tag_text)
        console.print(inputs)
