"""Bringing a database's schema up to date with Alembic, cheaply when it already is."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect, text

from heron.store.sql.database import Database

HEAD_REVISION = "0026"  # the newest file in migrations/versions; a test keeps them in step
MIGRATIONS = Path(__file__).parent / "migrations"


def current_revision(database: Database) -> str | None:
    with database.engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(database: Database) -> None:
    """Runs every migration not yet applied (`heron db upgrade`)."""
    from alembic import command  # imported here: Alembic is only needed when migrating
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with database.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


def upgrade_if_needed(database: Database) -> None:
    if current_revision(database) == HEAD_REVISION:
        return
    try:
        upgrade(database)
    except Exception:
        # Several server workers may start on a new database at once: one of them wins.
        if current_revision(database) != HEAD_REVISION:
            raise
