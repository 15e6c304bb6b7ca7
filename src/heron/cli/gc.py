"""`heron gc`: removes deleted runs, logged models and experiments for good, files and rows."""

from __future__ import annotations

import click

from heron.cli.options import (
    artifacts_destination_option,
    backend_store_option,
    console,
    default_artifact_root_option,
    format_time,
)
from heron.clock import duration_ms


def parse_duration_ms(text: str) -> int:
    """`1d2h3m4s` (any subset, in that order) as milliseconds."""
    found = duration_ms(text)
    if found is None:
        raise click.BadParameter(f"{text!r} is not a duration like 30d, 12h or 1d2h30m")
    return found


def _ids(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


@click.command()
@backend_store_option
@artifacts_destination_option
@default_artifact_root_option
@click.option(
    "--older-than",
    default=None,
    metavar="DURATION",
    help="Only what was deleted at least this long ago, e.g. 30d, 12h, 1d2h30m.",
)
@click.option("--experiment-ids", default=None, metavar="ID,...", help="Only these experiments.")
@click.option("--run-ids", default=None, metavar="ID,...", help="Only these runs.")
@click.option("--dry-run", is_flag=True, help="List what would be removed; remove nothing.")
def gc(
    backend_store_uri: str | None,
    artifacts_destination: str | None,
    default_artifact_root: str | None,
    older_than: str | None,
    experiment_ids: str | None,
    run_ids: str | None,
    dry_run: bool,
) -> None:
    """Removes deleted runs, logged models and experiments for good: their artifacts, then
    their rows. Without --experiment-ids or --run-ids, everything deleted goes."""
    from heron.client.uri import sql_uri
    from heron.clock import now_ms
    from heron.services import AllowAll
    from heron.services.build import build_services
    from heron.settings import Settings
    from heron.store.sql import open_sql_stores

    cutoff = now_ms() - parse_duration_ms(older_than) if older_than else None
    settings = Settings.for_home(
        backend_store_uri=backend_store_uri,
        artifacts_destination=artifacts_destination,
        default_artifact_root=default_artifact_root,
    )
    stores = open_sql_stores(
        sql_uri(settings.backend_store_uri),
        default_artifact_root=settings.default_artifact_root,
        create_default_experiment=False,
    )
    services = build_services(stores, AllowAll(), settings)
    try:
        report = services.gc.collect(
            deleted_before=cutoff,
            experiment_ids=_ids(experiment_ids),
            run_ids=_ids(run_ids),
            dry_run=dry_run,
        )
    finally:
        services.close()
    verb = "Would remove" if dry_run else "Removed"
    for item in report.removed:
        kind = item.kind.value.replace("_", " ")
        console.print(f"{verb} {kind} {item.id} (deleted {format_time(item.deleted_time)})")
    for item, reason in report.kept:
        console.print(f"Kept {item.kind.value.replace('_', ' ')} {item.id}: {reason}")
    if not report.removed and not report.kept:
        console.print("Nothing to remove")
    if report.kept:
        raise SystemExit(1)
