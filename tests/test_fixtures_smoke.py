"""The shared fixtures in conftest.py do what they promise, on real databases and servers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx
import pytest
import sqlalchemy as sa

if TYPE_CHECKING:
    from tests.conftest import PostgresServer, ServerProcess


def test_database_uri_is_a_fresh_empty_database(database_uri: str) -> None:
    engine = sa.create_engine(database_uri.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT 1")).scalar() == 1
        assert sa.inspect(engine).get_table_names() == []
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_postgres_server_creates_and_drops_databases(postgres_server: PostgresServer) -> None:
    import psycopg

    first = postgres_server.create_database()
    second = postgres_server.create_database()
    assert first != second
    with psycopg.connect(first) as conn:
        conn.execute("CREATE TABLE t (x int)")
        conn.commit()
    with psycopg.connect(second) as conn:
        row = conn.execute("SELECT count(*) FROM pg_tables WHERE tablename = 't'").fetchone()
        assert row == (0,)
    postgres_server.drop_database(first)
    postgres_server.drop_database(second)
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(first).close()


def test_stores_start_with_the_default_experiment(experiments: Any) -> None:
    assert experiments.get_experiment("0").name == "Default"


def test_live_server_answers_health(live_server: str) -> None:
    assert httpx.get(f"{live_server}/health").status_code == 200


@pytest.mark.parametrize("live_server", ["postgresql"], indirect=True)
@pytest.mark.postgres
def test_live_server_runs_on_postgresql(live_server: str) -> None:
    response = httpx.get(
        f"{live_server}/api/2.0/mlflow/experiments/get", params={"experiment_id": "0"}
    )
    assert response.status_code == 200
    assert response.json()["experiment"]["name"] == "Default"


def test_server_process_keeps_acknowledged_writes_through_kill_9(
    server_process: ServerProcess,
) -> None:
    api = f"{server_process.url}/api/2.0/mlflow"
    created = httpx.post(f"{api}/experiments/create", json={"name": "survives-kill-9"})
    assert created.status_code == 200
    experiment_id = created.json()["experiment_id"]

    server_process.restart()

    response = httpx.get(f"{api}/experiments/get", params={"experiment_id": experiment_id})
    assert response.status_code == 200
    assert response.json()["experiment"]["name"] == "survives-kill-9"
