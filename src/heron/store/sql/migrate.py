"""Bringing a database's schema up to date with Alembic, cheaply when it already is."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect, text

from heron.store.sql.database import Database

HEAD_REVISION = "0032"  # the newest file in migrations/versions; a test keeps them in step
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
    with database.engine.connect() as conn:
        # SQLite changes a table's constraints by rebuilding it, and dropping the old copy
        # with foreign keys on would delete its children's rows (ON DELETE CASCADE): they are
        # off while migrating (the pragma is ignored inside a transaction, so set here).
        sqlite = conn.dialect.name == "sqlite"
        raw = conn.connection.dbapi_connection  # the driver's: SQLAlchemy's would BEGIN
        if sqlite and raw is not None:
            raw.execute("PRAGMA foreign_keys=OFF")
        try:
            with conn.begin():
                config.attributes["connection"] = conn
                command.upgrade(config, "head")
        finally:
            if sqlite and raw is not None:
                raw.execute("PRAGMA foreign_keys=ON")


def upgrade_if_needed(database: Database) -> None:
    if current_revision(database) == HEAD_REVISION:
        return
    try:
        upgrade(database)
    except Exception:
        # Several server workers may start on a new database at once: one of them wins.
        if current_revision(database) != HEAD_REVISION:
            raise
