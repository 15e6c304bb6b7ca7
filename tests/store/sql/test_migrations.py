"""The schema Alembic builds is the one the code expects, and HEAD_REVISION is the newest."""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from heron.store.sql import migrate, tables
from heron.store.sql.database import Database


def test_head_revision_constant_matches_the_newest_migration() -> None:
    config = Config()
    config.set_main_option("script_location", str(migrate.MIGRATIONS))
    assert ScriptDirectory.from_config(config).get_current_head() == migrate.HEAD_REVISION


def test_migrated_database_has_every_table_and_column(database_uri: str) -> None:
    database = Database(database_uri)
    try:
        migrate.upgrade_if_needed(database)
        migrate.upgrade_if_needed(database)  # a second time is a no-op
        assert migrate.current_revision(database) == migrate.HEAD_REVISION
        found = inspect(database.engine)
        for table in tables.metadata.sorted_tables:
            columns = {c["name"] for c in found.get_columns(table.name)}
            assert columns == {c.name for c in table.columns}, table.name
    finally:
        database.dispose()


def test_migration_files_are_all_in_the_package() -> None:
    versions = sorted(p.name for p in (Path(migrate.MIGRATIONS) / "versions").glob("*.py"))
    assert versions[-1].startswith(migrate.HEAD_REVISION)
