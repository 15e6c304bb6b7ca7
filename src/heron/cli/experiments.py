"""`heron experiments list|create|delete`."""

from __future__ import annotations

import click
from rich.table import Table

from heron.cli.options import VIEW_TYPES, console, format_time, tracking_uri_option, view_option
from heron.client import HeronClient
from heron.entities import ViewType


@click.group()
def experiments() -> None:
    """List, create and delete experiments."""


@experiments.command("list")
@tracking_uri_option
@view_option
@click.option("--max-results", type=click.IntRange(min=1), default=1000, show_default=True)
def list_experiments(tracking_uri: str | None, view: str, max_results: int) -> None:
    """Shows the experiments in a table."""
    with HeronClient(tracking_uri) as client:
        page = client.search_experiments(ViewType(VIEW_TYPES[view.lower()]), max_results)
    table = Table("ID", "Name", "Artifact location", "Stage", "Created", title="Experiments")
    for e in page:
        table.add_row(
            e.experiment_id,
            e.name,
            e.artifact_location,
            str(e.lifecycle_stage),
            format_time(e.creation_time),
        )
    console.print(table)


@experiments.command("create")
@tracking_uri_option
@click.option("-n", "--experiment-name", required=True, help="A new, unique name.")
@click.option("-l", "--artifact-location", default=None, help="Where its artifacts go.")
def create_experiment(
    tracking_uri: str | None, experiment_name: str, artifact_location: str | None
) -> None:
    """Creates an experiment and prints its id."""
    with HeronClient(tracking_uri) as client:
        experiment_id = client.create_experiment(experiment_name, artifact_location)
    console.print(f"Created experiment {experiment_name!r} with id {experiment_id}")


@experiments.command("delete")
@tracking_uri_option
@click.option("-x", "--experiment-id", required=True, help="The experiment to delete.")
def delete_experiment(tracking_uri: str | None, experiment_id: str) -> None:
    """Soft-deletes an experiment and its runs (restorable)."""
    with HeronClient(tracking_uri) as client:
        client.delete_experiment(experiment_id)
    console.print(f"Deleted experiment {experiment_id}")
