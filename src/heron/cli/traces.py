"""`heron traces list|show|prune`: traces of an experiment, one trace's span tree with timings,
and deleting traces past their experiment's retention."""

from __future__ import annotations

from typing import Any

import click
from rich.table import Table
from rich.tree import Tree

from heron.cli.options import console, format_time, tracking_uri_option
from heron.client import HeronClient
from heron.clock import now_ms
from heron.entities import Experiment
from heron.entities.trace import Span, Trace
from heron.services.traces import RETENTION_TAG, retention_days


@click.group()
def traces() -> None:
    """List traces and show one as a tree of spans."""


@traces.command("list")
@tracking_uri_option
@click.option("-x", "--experiment-id", required=True, help="The experiment whose traces to list.")
@click.option("--filter", "filter_string", default="", help="e.g. \"trace.status = 'ERROR'\"")
@click.option("--order-by", multiple=True, help='e.g. "execution_time_ms DESC" (repeatable)')
@click.option("--max-results", type=click.IntRange(1, 500), default=100, show_default=True)
def list_traces(
    tracking_uri: str | None,
    experiment_id: str,
    filter_string: str,
    order_by: tuple[str, ...],
    max_results: int,
) -> None:
    """Shows the traces of an experiment, newest first."""
    with HeronClient(tracking_uri) as client:
        found = client.search_traces(
            [experiment_id],
            filter_string=filter_string or None,
            order_by=list(order_by),
            max_results=max_results,
            include_spans=False,
        )
    page = [t.info for t in found]
    table = Table(title=f"Traces of experiment {experiment_id}")
    table.add_column("Trace ID", no_wrap=True, min_width=35)
    table.add_column("Name", no_wrap=True)
    table.add_column("State", no_wrap=True)
    for header in ("Started", "Duration", "Request"):
        table.add_column(header)
    for info in page:
        duration = "" if info.execution_duration is None else f"{info.execution_duration} ms"
        table.add_row(
            info.trace_id,
            info.name or "",
            str(info.state),
            format_time(info.request_time),
            duration,
            (info.request_preview or "")[:60],
        )
    console.print(table)


@traces.command("show")
@tracking_uri_option
@click.argument("trace_id")
def show_trace(tracking_uri: str | None, trace_id: str) -> None:
    """Prints a trace's spans as a tree: name, type, status, start offset and duration."""
    with HeronClient(tracking_uri) as client:
        found = client.get_trace(trace_id)
    console.print(span_tree(found))


@traces.command("prune")
@tracking_uri_option
@click.option(
    "-x", "--experiment-id", "experiment_ids", multiple=True,
    help="Prune only these experiments (repeatable). Default: every active experiment.",
)  # fmt: skip
@click.option(
    "--default-days", type=click.FloatRange(min=0, min_open=True), default=None,
    help=f"Retention for experiments without a {RETENTION_TAG} tag (default: keep theirs).",
)  # fmt: skip
def prune_traces(
    tracking_uri: str | None, experiment_ids: tuple[str, ...], default_days: float | None
) -> None:
    """Deletes traces older than their experiment's retention: the experiment tag
    heron.trace.retentionDays (a number of days), else --default-days."""
    deleted: dict[str, int] = {}
    with HeronClient(tracking_uri) as client:
        chosen = [client.get_experiment(e) for e in experiment_ids] or _all_experiments(client)
        for experiment in chosen:
            raw = experiment.tags.get(RETENTION_TAG)
            days = default_days if raw is None else retention_days(raw)
            if days is None:
                if raw is not None:
                    bad = f"{RETENTION_TAG}={raw!r} is not a positive number of days"
                    console.print(f"[yellow]Experiment {experiment.experiment_id}: {bad}; kept[/]")
                continue
            cutoff = max(now_ms() - int(days * 86_400_000), 0)
            n = client.delete_traces(experiment.experiment_id, max_timestamp_millis=cutoff)
            deleted[experiment.experiment_id] = n
    for experiment_id, n in deleted.items():
        console.print(f"Experiment {experiment_id}: {n} trace(s) deleted")
    console.print(f"{sum(deleted.values())} trace(s) deleted in all")


def _all_experiments(client: HeronClient) -> list[Experiment]:
    found: list[Experiment] = []
    token = None
    while True:
        page = client.search_experiments(max_results=1000, page_token=token)
        found += page.items
        token = page.next_page_token
        if not token:
            return found


def _ms(ns: int) -> str:
    return f"{ns / 1_000_000:.1f} ms"


def _label(span: Span, start_ns: int) -> str:
    status = {"OK": "green", "ERROR": "red"}.get(str(span.status), "dim")
    took = "running" if span.duration_ns is None else _ms(span.duration_ns)
    return (
        f"[bold]{span.name}[/] [dim]{span.span_type}[/] [{status}]{span.status}[/] "
        f"+{_ms(span.start_time_ns - start_ns)} {took}"
    )


def span_tree(trace: Trace) -> Tree:
    """The spans nested under their parents, children in start order."""
    info = trace.info
    duration = "" if info.execution_duration is None else f" {info.execution_duration} ms"
    tree = Tree(f"[bold]{info.trace_id}[/] {info.name or ''} {info.state}{duration}")
    if not trace.spans:
        return tree
    start = min(s.start_time_ns for s in trace.spans)
    ids = {s.span_id for s in trace.spans}
    children: dict[str | None, list[Span]] = {}
    for s in sorted(trace.spans, key=lambda s: s.start_time_ns):
        parent = s.parent_span_id if s.parent_span_id in ids else None
        children.setdefault(parent, []).append(s)

    def add(node: Any, parent: str | None) -> None:
        for s in children.get(parent, []):
            add(node.add(_label(s, start)), s.span_id)

    add(tree, None)
    return tree
