"""`heron keys seal` on SQLite and PostgreSQL: a database filled in clear (a server without a
key, and the stores) is sealed where the settings say, after which a dump of every table
holds none of the plaintext and the server reads every value back the same; a second run
changes nothing; a run killed midway (kill -9) is completed by the next; `heron status`
counts what is left in clear."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
from click.testing import CliRunner
from tests.server.test_field_encryption import (
    ANSWER,
    API,
    QUESTION,
    SECRET,
    _data,
    _log,
    _run,
    _trace,
    heron,
    raw,
    server,
)

from heron.cli.main import main
from heron.entities import Param, RunTag
from heron.entities.registry import Webhook, WebhookEvent, WebhookStatus
from heron.entities.security import AccessToken, AuditEntry, PrincipalKind
from heron.store.crypto.fields import PREFIX, field_cipher
from heron.store.security import AuditQuery
from heron.store.sql import open_sql_stores

TOKEN_NAME = "deploy key of the " + "payments team"
HOOK_SECRET = "signing-" + "secret-of-the-hook"
PLAINTEXTS = (SECRET, "diagnosis", TOKEN_NAME, HOOK_SECRET)
PATTERNS = "*password*,secret.*"
TAGGED = f'{{"tags.db_password": "{SECRET}"}}'  # an audit entry of a sensitive tag set
TOKEN_ID = "t" + "1"  # built so no scanner takes it for a password


def dump(uri: str) -> str:
    """Every row of every table, as text."""
    if uri.startswith("sqlite"):
        names = [n for (n,) in raw(uri, "SELECT name FROM sqlite_master WHERE type = 'table'")]
    else:
        names = [
            n for (n,) in raw(uri, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        ]
    return repr([raw(uri, f'SELECT * FROM "{name}"') for name in names])


def _fill_through_the_stores(uri: str) -> None:
    stores = open_sql_stores(uri, default_artifact_root="mlflow-artifacts:")
    try:
        hook = Webhook(
            webhook_id="w1", name="notify", url="https://example.invalid/hook",
            events=[WebhookEvent("MODEL_VERSION_ALIAS", "DELETED")],
            status=WebhookStatus.ACTIVE, creation_timestamp=1, last_updated_timestamp=1,
            secret=HOOK_SECRET,
        )  # fmt: skip
        stores.webhooks.create_webhook(hook)
        owner = stores.security.principals.create_principal(PrincipalKind.USER, "ann")
        token = AccessToken(
            token_id=TOKEN_ID, principal_id=owner.principal_id, name=TOKEN_NAME, scopes=("read",),
            created_time=1, secret_hash="0" * 64,
        )  # fmt: skip
        stores.security.tokens.create_token(token)
        after = f'{{"owner": "ann", "name": "{TOKEN_NAME}"}}'
        entry = AuditEntry(
            seq=0, time=1, principal="ann", address="127.0.0.1", request_id="r", allowed=True,
            action="create_token", object_type="token", object_id=TOKEN_ID, after=after,
        )  # fmt: skip
        tagged = dataclasses.replace(
            entry, action="set_tag", object_type="experiment", object_id="1", after=TAGGED
        )
        other = dataclasses.replace(tagged, after='{"tags.team": "red"}')
        stores.security.audit.append([entry, tagged, other])
    finally:
        stores.close()


def _read_everything(http: httpx.Client, run_id: str, trace_id: str) -> Any:
    info = http.get(f"/api/3.0/mlflow/traces/{trace_id}").json()["trace"]["trace_info"]
    spans = http.get(f"/api/3.0/mlflow/traces/{trace_id}", params={"allow_partial": "true"})
    return (_data(http, run_id), info, spans.json())


def _stores_read(uri: str, key: Path) -> tuple[Any, ...]:
    fields = field_cipher(str(key), cache_s=0, sensitive_keys=PATTERNS.split(","))
    stores = open_sql_stores(uri, default_artifact_root="mlflow-artifacts:", fields=fields)
    try:
        return (
            stores.webhooks.get_webhook("w1").secret,
            stores.security.tokens.get_token(TOKEN_ID).name,
            [e.after for e in stores.security.audit.entries(AuditQuery())],
        )
    finally:
        stores.close()


def test_seal_seals_what_was_written_in_clear_and_everything_reads_the_same(
    serve_settings: Any, database_uri: str, tmp_path: Path, key_file: Path
) -> None:
    with server(serve_settings, database_uri, tmp_path, None) as http:  # encryption off
        run_id = _run(http)
        _log(http, run_id)
        experiment_id = http.get(f"{API}/runs/get", params={"run_id": run_id}).json()["run"][
            "info"
        ]["experiment_id"]
        trace_id = _trace(http, experiment_id)
        tag = {"key": "secret.note", "value": SECRET}
        assert http.patch(f"/api/3.0/mlflow/traces/{trace_id}/tags", json=tag).status_code == 200
    _fill_through_the_stores(database_uri)
    assert all(text in dump(database_uri) for text in PLAINTEXTS)
    with server(serve_settings, database_uri, tmp_path, key_file) as http:
        before = _read_everything(http, run_id, trace_id)
    stored_before = _stores_read(database_uri, key_file)
    flags = ["--backend-store-uri", database_uri, "--encryption-key", str(key_file)]

    status = heron("status", *flags, "--sensitive-keys", PATTERNS)
    assert "in clear:    11 values the settings seal" in status.output  # listed below
    for field in ("params.value 1", "tags.value 1", "trace_tags.value 1", "spans.inputs 1",
                  "traces.request_preview 1", "webhooks.secret 1", "access_tokens.name 1",
                  "audit_log.after 2"):  # fmt: skip
        assert field in status.output

    sealed = heron("keys", "seal", *flags, "--sensitive-keys", PATTERNS)
    assert "Sealed 11 database values" in sealed.output

    everything = dump(database_uri)
    for text in (*PLAINTEXTS, QUESTION, ANSWER):
        assert text not in everything
    assert "'red'" in everything  # values of other keys stay in clear
    with server(serve_settings, database_uri, tmp_path, key_file) as http:
        assert _read_everything(http, run_id, trace_id) == before
    assert _stores_read(database_uri, key_file) == stored_before
    token_entry = f'{{"owner": "ann", "name": "{TOKEN_NAME}"}}'
    entries = [token_entry, TAGGED, '{"tags.team": "red"}']
    assert stored_before == (HOOK_SECRET, TOKEN_NAME, entries)

    again = heron("keys", "seal", *flags, "--sensitive-keys", PATTERNS)
    assert "Sealed 0 database values" in again.output
    assert dump(database_uri) == everything  # the second run changed nothing
    status = heron("status", *flags, "--sensitive-keys", PATTERNS)
    assert "in clear:    none" in status.output


def test_a_seal_killed_midway_is_completed_by_the_next_run(
    database_uri: str, tmp_path: Path, key_file: Path
) -> None:
    stores = open_sql_stores(database_uri, default_artifact_root="mlflow-artifacts:")
    try:
        run_ids = []
        for _ in range(60):
            run_id = stores.runs.create_run(
                experiment_id="0", user_id="u", run_name="r", start_time=1, tags={}
            ).info.run_id
            params = [Param(key=f"p{i}_password", value=f"{SECRET}-{i}") for i in range(500)]
            stores.runs.log_batch(
                run_id, metrics=[], params=params, tags=[RunTag(key="t", value="x")]
            )
            run_ids.append(run_id)
    finally:
        stores.close()
    total = 60 * 500
    flags = ["--backend-store-uri", database_uri, "--encryption-key", str(key_file)]
    command = [
        sys.executable,
        "-m",
        "heron.cli",
        "keys",
        "seal",
        *flags,
        "--sensitive-keys",
        PATTERNS,
    ]
    env = {**os.environ, "COLUMNS": "200"}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    assert process.stdout is not None
    first = process.stdout.readline()  # printed after the first batch is committed
    assert "params.value" in first, first
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    process.stdout.close()

    def sealed() -> int:
        values = raw(database_uri, "SELECT value FROM params WHERE key LIKE '%password'")
        return sum(value.startswith(PREFIX) for (value,) in values)

    midway = sealed()
    assert 0 < midway < total, midway
    done = heron("keys", "seal", *flags, "--sensitive-keys", PATTERNS)
    assert f"Sealed {total - midway} database values" in done.output
    assert sealed() == total
    assert SECRET not in dump(database_uri)
    fields = field_cipher(str(key_file), cache_s=0, sensitive_keys=PATTERNS.split(","))
    stores = open_sql_stores(database_uri, default_artifact_root="mlflow-artifacts:", fields=fields)
    try:
        params = stores.runs.get_run(run_ids[-1]).data.params
        assert params == {f"p{i}_password": f"{SECRET}-{i}" for i in range(500)}
    finally:
        stores.close()


def test_seal_follows_the_patterns_it_is_given(database_uri: str, key_file: Path) -> None:
    _fill_through_the_stores(database_uri)
    stores = open_sql_stores(database_uri, default_artifact_root="mlflow-artifacts:")
    try:
        run_id = stores.runs.create_run(
            experiment_id="0", user_id="u", run_name="r", start_time=1, tags={}
        ).info.run_id
        params = [Param(key="db_password", value=SECRET)]
        stores.runs.log_batch(run_id, metrics=[], params=params, tags=[])
    finally:
        stores.close()
    flags = ["--backend-store-uri", database_uri, "--encryption-key", str(key_file)]
    # Without patterns: the always-sealed fields (the webhook secret, the token's name and its
    # audit entry), not the param, nor the audit entry of a tag.
    assert "Sealed 3 database values" in heron("keys", "seal", *flags).output
    assert raw(database_uri, "SELECT value FROM params") == [(SECRET,)]
    status = heron("status", *flags, "--sensitive-keys", PATTERNS)
    assert "in clear:    2 values the settings seal (params.value 1, audit_log.after 1)" in (
        status.output
    )
    assert (
        "Sealed 2 database values"
        in heron("keys", "seal", *flags, "--sensitive-keys", PATTERNS).output
    )
    assert SECRET not in dump(database_uri)


def test_seal_without_a_key_or_a_database(tmp_path: Path, key_file: Path) -> None:
    missing = f"sqlite:///{tmp_path}/none.db"
    result = CliRunner().invoke(
        main, ["keys", "seal", "--backend-store-uri", missing], env={"HERON_ENCRYPTION_KEY": None}
    )
    assert result.exit_code == 2
    assert "--encryption-key" in result.output
    told = heron("keys", "seal", "--backend-store-uri", missing, "--encryption-key", str(key_file))
    assert "No database at" in told.output
    assert not (tmp_path / "none.db").exists()
