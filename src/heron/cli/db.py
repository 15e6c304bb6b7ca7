"""`heron db upgrade`: brings a database's schema up to date with Alembic."""

from __future__ import annotations

import click

from heron.cli.options import backend_store_option, console, masked
from heron.errors import TemporarilyUnavailable


@click.group()
def db() -> None:
    """Manage the tracking database."""


@db.command()
@backend_store_option
def upgrade(backend_store_uri: str | None) -> None:
    """Runs every schema migration not yet applied (safe to run again)."""
    from sqlalchemy.exc import SQLAlchemyError

    from heron.client.uri import sql_uri
    from heron.settings import Settings
    from heron.store.sql import Database
    from heron.store.sql.migrate import current_revision
    from heron.store.sql.migrate import upgrade as run_migrations

    uri = sql_uri(backend_store_uri or Settings.for_home().backend_store_uri)
    try:
        database = Database(uri)
        try:
            before = current_revision(database)
            run_migrations(database)
            after = current_revision(database)
        finally:
            database.dispose()
    except SQLAlchemyError as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise TemporarilyUnavailable(f"Could not upgrade {masked(uri)}: {first_line}") from None
    if before == after:
        console.print(f"{masked(uri)} is up to date (revision {after})")
    else:
        console.print(f"Upgraded {masked(uri)} from revision {before or 'none'} to {after}")
