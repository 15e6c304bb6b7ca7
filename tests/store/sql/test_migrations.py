"""The schema Alembic builds is the one the code expects, and HEAD_REVISION is the newest."""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

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


def test_upgrade_to_0004_gives_existing_latest_metrics_their_experiment(
    database_uri: str, tmp_path: Path
) -> None:
    from alembic import command
    from alembic.config import Config

    from heron.search import parse_run_filter, parse_run_order_by
    from heron.store.runs import RunQuery
    from heron.store.sql import open_sql_stores

    database = Database(database_uri)
    config = Config()
    config.set_main_option("script_location", str(migrate.MIGRATIONS))
    try:
        with database.engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "0003")
            conn.execute(
                text(
                    "INSERT INTO experiments (experiment_id, name, artifact_location, "
                    "lifecycle_stage, creation_time, last_update_time) "
                    "VALUES (7, 'old', '/a', 'active', 0, 0)"
                )
            )
            for i, value in enumerate([0.2, 0.9, 0.5]):
                conn.execute(
                    text(
                        "INSERT INTO runs (run_uuid, experiment_id, name, user_id, status, "
                        "start_time, artifact_uri, lifecycle_stage) "
                        f"VALUES ('r{i}', 7, 'run{i}', 'u', 'FINISHED', {i}, '/a', 'active')"
                    )
                )
                conn.execute(
                    text(
                        "INSERT INTO latest_metrics (run_uuid, key, step, timestamp, value, "
                        f"is_nan) VALUES ('r{i}', 'acc', 0, 0, {value}, false)"
                    )
                )
    finally:
        database.dispose()

    stores = open_sql_stores(database_uri, default_artifact_root=str(tmp_path))  # upgrades
    try:
        by_acc = stores.runs.search_runs(
            RunQuery(experiment_ids=["7"], order_by=parse_run_order_by(["metrics.acc DESC"]))
        )
        assert [r.info.run_id for r in by_acc.items] == ["r1", "r2", "r0"]
        passing = stores.runs.search_runs(
            RunQuery(experiment_ids=["7"], filter=parse_run_filter("metrics.acc > 0.4"))
        )
        assert [r.info.run_id for r in passing.items] == ["r2", "r1"]
    finally:
        stores.close()
