"""A server with --encryption-key and --sensitive-keys, on SQLite and PostgreSQL: sensitive
params and tags, trace previews and span inputs and outputs are ciphertext in the database
(read with sqlite3 / psycopg directly) and plaintext on the wire; searches that would read
them are refused; tampering and a revoked key are clear errors; rotation and `heron keys
rewrap` keep everything readable; rows written in clear keep reading."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from heron.cli.main import main
from heron.client.http.traces import otlp_body
from heron.entities.trace import Span, SpanStatusCode
from heron.services.validation import MAX_PARAM_VALUE, MAX_RUN_TAG_VALUE
from heron.settings import Settings
from heron.store.crypto.fields import PREFIX
from heron.store.crypto.keys import retire_key, rotate_key_file

API = "/api/2.0/mlflow"
SECRET = "hunter2-" + "not-a-real-secret"
QUESTION = "what is the patient's diagnosis?"
ANSWER = "the diagnosis is confidential"


def raw(uri: str, sql: str) -> list[tuple[Any, ...]]:
    """Rows straight from the database, past Heron."""
    if uri.startswith("sqlite"):
        with contextlib.closing(sqlite3.connect(uri.removeprefix("sqlite:///"))) as conn:
            return conn.execute(sql).fetchall()
    import psycopg

    with psycopg.connect(uri) as conn:
        return conn.execute(sql).fetchall()  # type: ignore[arg-type]


def change(uri: str, sql: str) -> None:
    if uri.startswith("sqlite"):
        with contextlib.closing(sqlite3.connect(uri.removeprefix("sqlite:///"))) as conn:
            conn.execute(sql)
            conn.commit()
        return
    import psycopg

    with psycopg.connect(uri) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


def heron(*args: str) -> Any:
    result = CliRunner().invoke(main, list(args), env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result


@contextlib.contextmanager
def server(
    serve_settings: Any, uri: str, tmp_path: Path, key: Path | None
) -> Iterator[httpx.Client]:
    settings = Settings(
        backend_store_uri=uri,
        artifacts_destination=str(tmp_path / "artifacts"),
        encryption_key=None if key is None else str(key),
        sensitive_keys=("*password*", "secret.*") if key is not None else (),
        key_cache_s=0,
    )
    with serve_settings(settings) as url, httpx.Client(base_url=url, timeout=30) as http:
        yield http


def _run(http: httpx.Client) -> str:
    exp = http.post(f"{API}/experiments/create", json={"name": f"e-{uuid.uuid4().hex[:6]}"})
    run = http.post(f"{API}/runs/create", json={"experiment_id": exp.json()["experiment_id"]})
    return str(run.json()["run"]["info"]["run_id"])


def _log(http: httpx.Client, run_id: str) -> None:
    logged = http.post(
        f"{API}/runs/log-batch",
        json={
            "run_id": run_id,
            "params": [{"key": "db_password", "value": SECRET}, {"key": "lr", "value": "0.1"}],
            "tags": [{"key": "secret.token", "value": SECRET}, {"key": "team", "value": "red"}],
        },
    )
    assert logged.status_code == 200, logged.text


def _data(http: httpx.Client, run_id: str) -> tuple[dict[str, str], dict[str, str]]:
    got = http.get(f"{API}/runs/get", params={"run_id": run_id})
    assert got.status_code == 200, got.text
    data = got.json()["run"]["data"]
    return (
        {p["key"]: p["value"] for p in data.get("params", [])},
        {t["key"]: t["value"] for t in data.get("tags", [])},
    )


def _trace(http: httpx.Client, experiment_id: str) -> str:
    trace_id = "tr-" + uuid.uuid4().hex
    start = time.time_ns()
    span = Span(
        trace_id=trace_id, span_id=uuid.uuid4().hex[:16], parent_span_id=None, name="agent",
        span_type="AGENT", status=SpanStatusCode.OK, start_time_ns=start,
        end_time_ns=start + 1_000_000, inputs={"question": QUESTION}, outputs=ANSWER,
    )  # fmt: skip
    sent = http.post(
        "/v1/traces",
        content=otlp_body([span]),
        headers={"Content-Type": "application/x-protobuf", "x-mlflow-experiment-id": experiment_id},
    )
    assert sent.status_code == 200, sent.text
    return trace_id


def test_sealed_fields_are_ciphertext_in_the_database_and_plaintext_on_the_wire(
    serve_settings: Any, database_uri: str, tmp_path: Path, key_file: Path
) -> None:
    with server(serve_settings, database_uri, tmp_path, key_file) as http:
        run_id = _run(http)
        _log(http, run_id)
        params, tags = _data(http, run_id)
        assert params == {"db_password": SECRET, "lr": "0.1"}
        assert (tags["secret.token"], tags["team"]) == (SECRET, "red")
        searched = http.post(f"{API}/runs/search", json={"experiment_ids": ["0", "1"]})
        found = searched.json()["runs"][0]["data"]["params"]
        assert {p["key"]: p["value"] for p in found}["db_password"] == SECRET
        # Logging the same value again is allowed; another value is refused, as in clear.
        again = {"run_id": run_id, "key": "db_password", "value": SECRET}
        assert http.post(f"{API}/runs/log-parameter", json=again).status_code == 200
        other = http.post(f"{API}/runs/log-parameter", json={**again, "value": "other"})
        assert other.json()["error_code"] == "INVALID_PARAMETER_VALUE"

        experiment_id = raw(
            database_uri, f"SELECT experiment_id FROM runs WHERE run_uuid = '{run_id}'"
        )[0][0]
        trace_id = _trace(http, str(experiment_id))
        tagged = http.patch(
            f"/api/3.0/mlflow/traces/{trace_id}/tags", json={"key": "secret.note", "value": SECRET}
        )
        assert tagged.status_code == 200, tagged.text
        info = http.get(f"/api/3.0/mlflow/traces/{trace_id}").json()["trace"]["trace_info"]
        assert QUESTION in info["request_preview"]
        assert ANSWER in info["response_preview"]
        assert info["tags"]["secret.note"] == SECRET
        heron_search = http.get(
            "/api/2.0/heron/traces/search", params={"experiment_ids": [str(experiment_id)]}
        ).json()
        spans = heron_search["traces"][0]["spans"]
        assert (spans[0]["inputs"], spans[0]["outputs"]) == ({"question": QUESTION}, ANSWER)

    stored = [
        *raw(database_uri, "SELECT key, value FROM params"),
        *raw(database_uri, "SELECT key, value FROM tags"),
    ]
    by_key = dict(stored)
    assert by_key["db_password"].startswith(PREFIX)
    assert by_key["secret.token"].startswith(PREFIX)
    assert (by_key["lr"], by_key["team"]) == ("0.1", "red")  # other keys stay as they are
    everything = repr(
        [
            *stored,
            *raw(database_uri, "SELECT request_preview, response_preview FROM traces"),
            *raw(database_uri, "SELECT inputs, outputs FROM spans"),
            *raw(database_uri, "SELECT key, value FROM trace_tags"),
        ]
    )
    assert SECRET not in everything
    assert "diagnosis" not in everything
    previews = raw(database_uri, "SELECT request_preview, response_preview FROM traces")
    assert all(v.startswith(PREFIX) for row in previews for v in row)


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("runs", {"filter": "params.db_password = 'x'"}, "param 'db_password'"),
        ("runs", {"filter": "tags.`secret.token` LIKE '%x%'"}, "tag 'secret.token'"),
        ("runs", {"order_by": ["params.DB_PASSWORD"]}, "param 'DB_PASSWORD'"),
        ("traces", {"filter": "span.content LIKE '%diagnosis%'"}, "span.content"),
        ("traces", {"filter": "tags.`secret.note` = 'x'"}, "tag 'secret.note'"),
    ],
    ids=["param-filter", "tag-like", "param-order", "span-content", "trace-tag"],
)
def test_searches_that_would_read_sealed_values_are_refused(
    serve_settings: Any, tmp_path: Path, key_file: Path, path: str, body: dict[str, Any],
    field: str,
) -> None:  # fmt: skip
    uri = f"sqlite:///{tmp_path}/heron.db"
    with server(serve_settings, uri, tmp_path, key_file) as http:
        if path == "runs":
            answer = http.post(f"{API}/runs/search", json={"experiment_ids": ["0"], **body})
        else:
            answer = http.get(
                "/api/2.0/heron/traces/search", params={"experiment_ids": ["0"], **body}
            )
        assert answer.status_code == 400, answer.text
        assert answer.json()["error_code"] == "INVALID_PARAMETER_VALUE"
        assert field in answer.json()["message"]
        assert "encrypted" in answer.json()["message"]
        # Presence of a sealed key, and the other keys' values, still answer.
        ok = {"experiment_ids": ["0"], "filter": "params.db_password IS NULL and params.lr = '1'"}
        assert http.post(f"{API}/runs/search", json=ok).status_code == 200


def test_tampering_and_revocation_fail_closed(
    serve_settings: Any, database_uri: str, tmp_path: Path, key_file: Path
) -> None:
    with server(serve_settings, database_uri, tmp_path, key_file) as http:
        run_id = _run(http)
        _log(http, run_id)
        (stored,) = raw(database_uri, "SELECT value FROM params WHERE key = 'db_password'")[0]
        flipped = stored[:-6] + ("A" if stored[-6] != "A" else "B") + stored[-5:]
        change(database_uri, f"UPDATE params SET value = '{flipped}' WHERE key = 'db_password'")
        altered = http.get(f"{API}/runs/get", params={"run_id": run_id})
        assert altered.json()["error_code"] == "DATA_LOSS"
        assert "param 'db_password'" in altered.json()["message"]
        assert "Traceback" not in altered.text
        change(database_uri, f"UPDATE params SET value = '{stored}' WHERE key = 'db_password'")
        assert _data(http, run_id)[0]["db_password"] == SECRET

        primary = json.loads(key_file.read_text())["primary"]
        key_file.write_text(key_file.read_text().replace(primary, "k-revoked"))
        time.sleep(1.1)  # a running server looks at the key file once a second
        refused = http.get(f"{API}/runs/get", params={"run_id": run_id})
        assert refused.status_code == 503
        assert refused.json()["error_code"] == "TEMPORARILY_UNAVAILABLE"
        assert primary in refused.json()["message"]
        assert SECRET not in refused.text
        assert PREFIX not in refused.text


def test_rotation_rewrap_and_rows_written_in_clear(
    serve_settings: Any, database_uri: str, tmp_path: Path, key_file: Path
) -> None:
    with server(serve_settings, database_uri, tmp_path, None) as http:  # encryption off
        plain_run = _run(http)
        _log(http, plain_run)
    first = json.loads(key_file.read_text())["primary"]
    with server(serve_settings, database_uri, tmp_path, key_file) as http:
        assert _data(http, plain_run)[0]["db_password"] == SECRET  # written in clear: reads
        sealed_run = _run(http)
        _log(http, sealed_run)
        second = rotate_key_file(key_file)
        time.sleep(1.1)  # a running server looks at the key file once a second
        newer_run = _run(http)  # written under the new primary at once
        _log(http, newer_run)
        flags = ["--backend-store-uri", database_uri, "--encryption-key", str(key_file)]
        done = heron("keys", "rewrap", *flags, "--artifacts-destination", str(tmp_path / "a"))
        assert "Re-sealed 2 database fields" in done.output  # the first run's param and tag
        retire_key(key_file, first)
        time.sleep(1.1)
        for run_id in (plain_run, sealed_run, newer_run):
            params, tags = _data(http, run_id)
            assert (params["db_password"], tags["secret.token"]) == (SECRET, SECRET)
    values = [v for (v,) in raw(database_uri, "SELECT value FROM params WHERE key = 'db_password'")]
    assert sorted(v.startswith(f"{PREFIX}{second}:") for v in values) == [False, True, True]
    assert SECRET in values  # rewrap leaves the row written in clear as it was


def test_the_limits_users_see_stay_mlflows_on_the_plaintext(
    serve_settings: Any, database_uri: str, tmp_path: Path, key_file: Path
) -> None:
    with server(serve_settings, database_uri, tmp_path, key_file) as http:
        run_id = _run(http)
        longest = {"run_id": run_id, "key": "db_password", "value": "é" * MAX_PARAM_VALUE}
        assert http.post(f"{API}/runs/log-parameter", json=longest).status_code == 200
        assert _data(http, run_id)[0]["db_password"] == "é" * MAX_PARAM_VALUE
        tag = {"run_id": run_id, "key": "secret.t", "value": "x" * MAX_RUN_TAG_VALUE}
        assert http.post(f"{API}/runs/set-tag", json=tag).status_code == 200
        over = {**longest, "key": "api_password", "value": "x" * (MAX_PARAM_VALUE + 1)}
        refused = http.post(f"{API}/runs/log-parameter", json=over)
        assert refused.json()["error_code"] == "INVALID_PARAMETER_VALUE"
        assert str(MAX_PARAM_VALUE) in refused.json()["message"]
    (stored,) = raw(database_uri, "SELECT value FROM params WHERE key = 'db_password'")[0]
    assert stored.startswith(PREFIX)
    assert len(stored) > MAX_PARAM_VALUE * 2  # the ciphertext of 12,000 bytes, held whole
