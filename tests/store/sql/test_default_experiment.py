"""The Default experiment on a new database, when several server workers start at once."""

from __future__ import annotations

import threading
import time
from typing import Any

import psycopg
import pytest

from heron.store.sql import open_sql_stores


@pytest.mark.postgres
def test_workers_starting_together_make_the_default_experiment_once(
    postgres_server: Any,
) -> None:
    """Each worker saw no experiment 0 and inserted it; the second insert failed on the key and
    its worker died at start (`heron server --workers 2` on a new PostgreSQL database, found by
    the fuzz test's check of the server's log). Here the other worker's insert is held open
    while this one's runs, then committed."""
    uri = postgres_server.create_database()
    stores = open_sql_stores(
        uri, default_artifact_root="mlflow-artifacts:", create_default_experiment=False
    )
    failed: list[BaseException] = []
    try:
        with psycopg.connect(uri) as other:
            other.execute(
                "INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage,"
                " creation_time, last_update_time) VALUES (0, 'Default', 'x', 'active', 1, 1)"
            )

            def start() -> None:
                try:
                    stores.experiments.ensure_default_experiment()
                except BaseException as exc:  # reported below
                    failed.append(exc)

            worker = threading.Thread(target=start)
            worker.start()
            time.sleep(0.5)  # it saw no row, and waits on the key the other insert holds
            other.commit()
            worker.join(timeout=30)
        assert failed == []
        assert stores.experiments.get_experiment("0").name == "Default"
    finally:
        stores.close()
        postgres_server.drop_database(uri)
