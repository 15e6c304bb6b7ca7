"""The schema Alembic builds is the one the code expects, and HEAD_REVISION is the newest."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text

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
    # Numbers are handed out to branches ahead of their merge: the head is the newest by its
    # chain, not by its file name.
    versions = {p.name[:4] for p in (Path(migrate.MIGRATIONS) / "versions").glob("*.py")}
    config = Config()
    config.set_main_option("script_location", str(migrate.MIGRATIONS))
    chain = {s.revision for s in ScriptDirectory.from_config(config).walk_revisions()}
    assert migrate.HEAD_REVISION in versions
    assert chain == versions


@contextmanager
def old_database(database_uri: str, revision: str, runs: int) -> Iterator[Connection]:
    """A database at `revision` with experiment 7 and runs r0..r{runs-1} in it: the caller
    adds rows as that revision's schema had them, in the same transaction."""
    from alembic import command

    database = Database(database_uri)
    config = Config()
    config.set_main_option("script_location", str(migrate.MIGRATIONS))
    try:
        with database.engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, revision)
            conn.execute(
                text(
                    "INSERT INTO experiments (experiment_id, name, artifact_location, "
                    "lifecycle_stage, creation_time, last_update_time) "
                    "VALUES (7, 'old', '/a', 'active', 0, 0)"
                )
            )
            for i in range(runs):
                conn.execute(
                    text(
                        "INSERT INTO runs (run_uuid, experiment_id, name, user_id, status, "
                        "start_time, artifact_uri, lifecycle_stage) "
                        f"VALUES ('r{i}', 7, 'run{i}', 'u', 'FINISHED', {i}, '/a', 'active')"
                    )
                )
            yield conn
    finally:
        database.dispose()


def test_upgrade_to_0004_gives_existing_latest_metrics_their_experiment(
    database_uri: str, tmp_path: Path
) -> None:
    from heron.search import parse_run_filter, parse_run_order_by
    from heron.store.runs import RunQuery
    from heron.store.sql import open_sql_stores

    with old_database(database_uri, "0003", runs=3) as conn:
        for i, value in enumerate([0.2, 0.9, 0.5]):
            conn.execute(
                text(
                    "INSERT INTO latest_metrics (run_uuid, key, step, timestamp, value, "
                    f"is_nan) VALUES ('r{i}', 'acc', 0, 0, {value}, false)"
                )
            )

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


def test_upgrade_to_0007_writes_existing_latest_values_as_json(
    database_uri: str, tmp_path: Path
) -> None:
    """Runs logged before 0007 still read back exactly: their latest points get point_json."""
    from heron.store.sql import open_sql_stores

    values = {"tenth": (0.1, False), "max": (1.7976931348623157e308, False),
              "inf": (math.inf, False), "nan": (0.0, True)}  # fmt: skip
    with old_database(database_uri, "0006", runs=1) as conn:
        for key, (value, nan) in values.items():
            conn.execute(
                text(
                    "INSERT INTO latest_metrics (run_uuid, key, step, timestamp, value, "
                    "is_nan, experiment_id) VALUES ('r0', :k, 3, 4, :v, :n, 7)"
                ),
                {"k": key, "v": value, "n": nan},
            )

    stores = open_sql_stores(database_uri, default_artifact_root=str(tmp_path))  # upgrades
    try:
        got = {m.key: m for m in stores.runs.get_run("r0").data.metrics}
    finally:
        stores.close()
    assert sorted(got) == sorted(values)
    for key, (value, nan) in values.items():
        assert (got[key].step, got[key].timestamp) == (3, 4)
        if nan:
            assert math.isnan(got[key].value)
        else:
            assert got[key].value == value


def test_upgrade_to_0015_fills_in_what_the_genai_views_aggregate(
    database_uri: str, tmp_path: Path
) -> None:
    """Traces logged before 0015 appear in the overview, sessions and versions: their session,
    app version and cost, their spans' experiment, their assessments' time and score."""
    from heron.services import AllowAll
    from heron.services.trace_analytics import TraceAnalyticsService
    from heron.store.sql import open_sql_stores

    hour = 3_600_000
    cost = '{"input_cost": 0.25, "output_cost": 0.5, "total_cost": 0.75}'
    with old_database(database_uri, "0007", runs=0) as conn:
        for i, (duration, state) in enumerate([(100, "OK"), (300, "ERROR"), (200, "OK")]):
            conn.execute(
                text(
                    "INSERT INTO traces (trace_id, experiment_id, request_time, "
                    "execution_duration, state) VALUES (:t, 7, :at, :d, :s)"
                ),
                {"t": f"tr-{i}", "at": hour + i, "d": duration, "s": state},
            )
            metadata = {"mlflow.trace.session": "chat", "mlflow.modelId": f"m-{i % 2}"}
            if i == 0:
                metadata["mlflow.trace.cost"] = cost
            for key, value in metadata.items():
                conn.execute(
                    text("INSERT INTO trace_metadata (trace_id, key, value) VALUES (:t, :k, :v)"),
                    {"t": f"tr-{i}", "k": key, "v": value},
                )
            attributes = '{"mlflow.llm.cost": {"input_cost": 0.5, "output_cost": 1.5}}'
            conn.execute(
                text(
                    "INSERT INTO spans (trace_id, span_id, name, span_type, status, "
                    "start_time_ns, end_time_ns, attributes) VALUES (:t, 'aaaaaaaaaaaaaaaa', "
                    "'search', 'TOOL', :s, :start, :end, :a)"
                ),
                {
                    "t": f"tr-{i}",
                    "s": state,
                    "start": (hour + i) * 1_000_000,
                    "end": (hour + i + 40) * 1_000_000,
                    "a": attributes,
                },
            )
            conn.execute(
                text(
                    "INSERT INTO assessments (assessment_id, trace_id, name, kind, "
                    "source_type, source_id, value, create_time, last_update_time, valid) "
                    "VALUES (:a, :t, 'safe', 'feedback', 'LLM_JUDGE', 'j', :v, 0, 0, true)"
                ),
                {"a": f"a-{i}", "t": f"tr-{i}", "v": '"yes"' if i else '"no"'},
            )

    stores = open_sql_stores(database_uri, default_artifact_root=str(tmp_path))  # upgrades
    try:
        analytics = TraceAnalyticsService(stores.trace_analytics, AllowAll())
        found = analytics.overview("7", start_ms=hour, end_ms=2 * hour, grain_ms=hour)
        sessions = analytics.sessions("7", start_ms=hour, end_ms=2 * hour).items
        versions = analytics.versions("7", ["m-0", "m-1"], start_ms=hour, end_ms=2 * hour)
    finally:
        stores.close()
    assert (found.totals.traces, found.totals.errors) == (3, 1)
    assert found.totals.latency.p50 == 200
    assert found.totals.cost == 0.75 + 2.0 + 2.0  # the metadata's, else the spans' added up
    assert (found.scores[0].count, found.scores[0].mean) == (3, 2 / 3)
    assert (found.tools[0].name, found.tools[0].calls, found.tools[0].errors) == ("search", 3, 1)
    assert [(s.session_id, s.turns) for s in sessions] == [("chat", 3)]
    assert [v.traces for v in versions] == [2, 1]


def test_upgrade_to_0022_keeps_each_traces_user_in_its_column(
    database_uri: str, tmp_path: Path
) -> None:
    """Traces logged before 0022 are found by a user filter through the new column."""
    from heron.services import AllowAll
    from heron.services.trace_analytics import TraceAnalyticsService
    from heron.store.sql import open_sql_stores

    hour = 3_600_000
    with old_database(database_uri, "0021", runs=0) as conn:
        for i, user in enumerate(["ana", "bo", "ana", "x" * 300]):
            conn.execute(
                text(
                    "INSERT INTO traces (trace_id, experiment_id, request_time, "
                    "execution_duration, state) VALUES (:t, 7, :at, 5, 'OK')"
                ),
                {"t": f"tr-{i}", "at": hour + i},
            )
            conn.execute(
                text("INSERT INTO trace_metadata (trace_id, key, value) VALUES (:t, :k, :v)"),
                {"t": f"tr-{i}", "k": "mlflow.trace.user", "v": user},
            )
    stores = open_sql_stores(database_uri, default_artifact_root=str(tmp_path))  # upgrades
    try:
        analytics = TraceAnalyticsService(stores.trace_analytics, AllowAll())
        window = {"start_ms": hour, "end_ms": 2 * hour, "grain_ms": hour}
        ana = analytics.overview(
            "7", filter_string="metadata.`mlflow.trace.user` = 'ana'", **window
        )
        database = Database(database_uri)
        with database.engine.connect() as conn:
            kept = conn.execute(text("SELECT trace_id, user_id FROM traces ORDER BY trace_id"))
            columns = [tuple(row) for row in kept]
        database.dispose()
    finally:
        stores.close()
    assert ana.totals.traces == 2
    assert columns == [("tr-0", "ana"), ("tr-1", "bo"), ("tr-2", "ana"), ("tr-3", None)]
