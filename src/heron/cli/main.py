"""The `heron` command group; a Heron error ends a command with one line and exit code 1."""

from __future__ import annotations

from typing import Any

import click

from heron.cli.admin import admin, audit
from heron.cli.backup import backup
from heron.cli.db import db
from heron.cli.endpoints import endpoints
from heron.cli.experiments import experiments
from heron.cli.gc import gc
from heron.cli.jobs import jobs
from heron.cli.keys import keys
from heron.cli.models import models
from heron.cli.pitr import pitr
from heron.cli.runs import runs
from heron.cli.scorers import scorers
from heron.cli.server import server
from heron.cli.serving import serving
from heron.cli.status import replicate, status
from heron.cli.traces import traces
from heron.cli.transfer import export, import_
from heron.cli.worker import worker
from heron.errors import HeronError


class _HeronGroup(click.Group):
    """Shows a `HeronError` as `Error: <message>` instead of a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except HeronError as exc:
            raise click.ClickException(exc.message) from None


@click.group(cls=_HeronGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="heron", prog_name="heron")
def main() -> None:
    """Heron: ML experiment tracking, wire-compatible with MLflow."""


main.add_command(server)
main.add_command(backup)
main.add_command(db)
main.add_command(experiments)
main.add_command(runs)
main.add_command(gc)
main.add_command(keys)
main.add_command(pitr)
main.add_command(replicate)
main.add_command(status)
main.add_command(models)
main.add_command(traces)
main.add_command(scorers)
main.add_command(admin)
main.add_command(audit)
main.add_command(export)
main.add_command(import_)
main.add_command(serving)
main.add_command(worker)
main.add_command(jobs)
main.add_command(endpoints)
