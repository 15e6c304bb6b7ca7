"""Sensitive fields encrypted in the database: the FieldCipher, and webhook secrets and
tokens' names stored as ciphertext on SQLite and PostgreSQL, read back in clear by the store;
a sealed value read without a key is refused."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from heron.entities import Param
from heron.entities.registry import Webhook, WebhookEvent, WebhookStatus
from heron.entities.security import AccessToken, AuditEntry, PrincipalKind, audit_hash
from heron.errors import DataLoss, InvalidParameter, KeyUnavailable
from heron.store.crypto.envelope import DataKeys, open_key_provider
from heron.store.crypto.fields import PREFIX, FieldCipher, field_cipher
from heron.store.crypto.keys import retire_key, rotate_key_file
from heron.store.security import AuditQuery
from heron.store.sql import open_sql_stores
from heron.store.sql.security_tables import access_tokens, audit_log
from heron.store.sql.tables import webhook_queue, webhooks

TOKEN_ID = "t" + "1"  # built, as SECRET is, so no scanner takes it for a password
SECRET = "signing-" + "secret"  # a test value, built so no scanner mistakes it for a real one


def _cipher(key_file: Path, **options: object) -> FieldCipher:
    return FieldCipher(DataKeys(open_key_provider(str(key_file)), cache_s=0), **options)  # type: ignore[arg-type]


def test_round_trip_plain_values_and_tampering(key_file: Path) -> None:
    cipher = _cipher(key_file)
    stored = cipher.encrypt("s3cr3t ✓")
    assert stored.startswith(PREFIX)
    assert "s3cr3t" not in stored
    assert cipher.decrypt(stored) == "s3cr3t ✓"
    assert cipher.encrypt("same") != cipher.encrypt("same")  # a fresh nonce each time
    assert cipher.decrypt("written before encryption") == "written before encryption"
    flipped = stored[:-6] + ("A" if stored[-6] != "A" else "B") + stored[-5:]
    with pytest.raises(DataLoss):
        cipher.decrypt(flipped)


def test_rotation_then_a_retired_key_fails_closed(key_file: Path) -> None:
    cipher = _cipher(key_file)
    old = cipher.encrypt("old value")
    first = open_key_provider(str(key_file)).primary_key_id()
    new_key = rotate_key_file(key_file)
    rotated = _cipher(key_file)
    fresh = rotated.encrypt("new value")
    assert f"{PREFIX}{new_key}:" in fresh
    assert rotated.decrypt(old) == "old value"
    retire_key(key_file, first)
    with pytest.raises(KeyUnavailable, match=first):
        _cipher(key_file).decrypt(old)


def test_sensitive_keys_are_globs_matched_whole_ignoring_case(key_file: Path) -> None:
    cipher = _cipher(key_file, sensitive_keys=["*password*", "api_key", "secret.*"])
    assert cipher.is_sensitive("db_password")
    assert cipher.is_sensitive("DB_PASSWORD")
    assert cipher.is_sensitive("api_key")
    assert cipher.is_sensitive("secret.token")
    assert not cipher.is_sensitive("my_api_key_name")
    assert not cipher.is_sensitive("secrets")
    assert not cipher.is_sensitive("mlflow.password")  # Heron's own keys are never sealed


def test_webhook_secrets_are_ciphertext_in_the_database(database_uri: str, key_file: Path) -> None:
    stores = open_sql_stores(
        database_uri,
        default_artifact_root="mlflow-artifacts:",
        fields=field_cipher(str(key_file), cache_s=0),
    )
    try:
        hook = Webhook(
            webhook_id="w1",
            name="notify",
            url="https://example.invalid/hook",
            events=[WebhookEvent("MODEL_VERSION", "CREATED")],
            status=WebhookStatus.ACTIVE,
            creation_timestamp=1,
            last_updated_timestamp=1,
            secret=SECRET,
        )
        stores.webhooks.create_webhook(hook)
        with stores.database.read() as conn:
            stored = conn.execute(select(webhooks.c.secret)).scalar_one()
        assert stored.startswith(PREFIX)
        assert SECRET not in stored
        assert stores.webhooks.get_webhook("w1").secret == SECRET
        assert stores.webhooks.list_webhooks(max_results=10, page_token=None)[0].secret == SECRET
    finally:
        stores.close()


def test_token_names_are_ciphertext_in_the_database(database_uri: str, key_file: Path) -> None:
    stores = open_sql_stores(
        database_uri,
        default_artifact_root="mlflow-artifacts:",
        fields=field_cipher(str(key_file), cache_s=0),
    )
    name = "deploy key of the " + "x" * 230  # 248 characters: past varchar(256) once sealed
    try:
        owner = stores.security.principals.create_principal(PrincipalKind.USER, "ann")
        token = AccessToken(
            token_id=TOKEN_ID, principal_id=owner.principal_id, name=name, scopes=("read",),
            created_time=1, secret_hash="0" * 64,
        )  # fmt: skip
        stores.security.tokens.create_token(token)
        with stores.database.read() as conn:
            stored = conn.execute(select(access_tokens.c.name)).scalar_one()
        assert stored.startswith(PREFIX)
        assert "deploy" not in stored
        assert stores.security.tokens.get_token(TOKEN_ID) == token
        assert stores.security.tokens.list_tokens(owner.principal_id) == [token]
        # The audit entry of its making names it too: sealed, read back whole, chain intact.
        after = json.dumps({"owner": "ann", "name": name})
        entry = AuditEntry(
            seq=0, time=1, principal="ann", address="127.0.0.1", request_id="r", allowed=True,
            action="create_token", object_type="token", object_id=TOKEN_ID, after=after,
        )  # fmt: skip
        (written,) = stores.security.audit.append([entry])
        with stores.database.read() as conn:
            assert "deploy" not in conn.execute(select(audit_log.c.after)).scalar_one()
        (read,) = stores.security.audit.entries(AuditQuery())
        assert read == written
        assert read.after == after
        assert audit_hash("", dataclasses.replace(read, hash="")) == read.hash
    finally:
        stores.close()


def test_a_sealed_value_without_a_key_is_refused(database_uri: str, key_file: Path) -> None:
    sealed = open_sql_stores(
        database_uri,
        default_artifact_root="mlflow-artifacts:",
        fields=field_cipher(str(key_file), cache_s=0, sensitive_keys=["*password*"]),
    )
    try:
        run = sealed.runs.create_run(
            experiment_id="0", user_id="ann", run_name="r", start_time=1, tags={}
        )
        sealed.runs.log_batch(
            run.info.run_id, metrics=[], params=[Param(key="db_password", value=SECRET)], tags=[]
        )
    finally:
        sealed.close()
    keyless = open_sql_stores(database_uri, default_artifact_root="mlflow-artifacts:")
    try:
        with pytest.raises(KeyUnavailable, match="param 'db_password' is encrypted"):
            keyless.runs.get_run(run.info.run_id)
    finally:
        keyless.close()


def test_sensitive_keys_need_a_key() -> None:
    with pytest.raises(InvalidParameter, match="--encryption-key"):
        field_cipher(None, cache_s=0, sensitive_keys=["*password*"])


def test_values_opened_lately_are_refused_once_their_key_is_retired(key_file: Path) -> None:
    cipher = FieldCipher(DataKeys(open_key_provider(str(key_file)), cache_s=60))
    first = open_key_provider(str(key_file)).primary_key_id()
    stored = cipher.encrypt("kept for a minute")
    assert cipher.decrypt(stored) == "kept for a minute"
    assert cipher.decrypt(stored) == "kept for a minute"  # from what it opened lately
    flipped = stored[:-6] + ("A" if stored[-6] != "A" else "B") + stored[-5:]
    with pytest.raises(DataLoss):  # another text: opened afresh, and refused
        cipher.decrypt(flipped)
    rotate_key_file(key_file)
    retire_key(key_file, first)
    time.sleep(1.1)  # the key file is looked at once a second
    with pytest.raises(KeyUnavailable, match=first):
        cipher.decrypt(stored)


def test_audit_entries_holding_a_sensitive_value_are_sealed(
    database_uri: str, key_file: Path
) -> None:
    stores = open_sql_stores(
        database_uri,
        default_artifact_root="mlflow-artifacts:",
        fields=field_cipher(str(key_file), cache_s=0, sensitive_keys=["*password*"]),
    )
    sensitive = json.dumps({"tags.db_password": SECRET})
    other = json.dumps({"tags.team": "red", "name": "db_password"})
    try:
        entry = AuditEntry(
            seq=0, time=1, principal="ann", address="127.0.0.1", request_id="r", allowed=True,
            action="set_tag", object_type="experiment", object_id="1", before=None,
            after=sensitive,
        )  # fmt: skip
        written = stores.security.audit.append([entry, dataclasses.replace(entry, after=other)])
        with stores.database.read() as conn:
            stored = [row[0] for row in conn.execute(select(audit_log.c.after))]
        assert stored[0].startswith(PREFIX)
        assert stored[1] == other  # no sensitive key's value in it: kept as it is
        read = stores.security.audit.entries(AuditQuery())
        assert read == written
        assert [e.after for e in read] == [sensitive, other]
        assert all(audit_hash(e.prev_hash, dataclasses.replace(e, hash="")) == e.hash for e in read)
    finally:
        stores.close()


def test_a_webhook_delivery_waits_in_the_queue_sealed(database_uri: str, key_file: Path) -> None:
    stores = open_sql_stores(
        database_uri,
        default_artifact_root="mlflow-artifacts:",
        fields=field_cipher(str(key_file), cache_s=0, sensitive_keys=["secret.*"]),
    )
    try:
        hook = Webhook(
            webhook_id="w1", name="notify", url="https://example.invalid/hook",
            events=[WebhookEvent("REGISTERED_MODEL", "CREATED")], status=WebhookStatus.ACTIVE,
            creation_timestamp=1, last_updated_timestamp=1, secret=None,
        )  # fmt: skip
        stores.webhooks.create_webhook(hook)
        stores.registered_models.create_registered_model(
            "fraud", tags={"secret.owner": SECRET}, description=None, actor=None
        )
        with stores.database.read() as conn:
            stored = conn.execute(select(webhook_queue.c.body)).scalar_one()
        assert stored.startswith(PREFIX)
        assert SECRET not in stored
        claimed = stores.webhooks.claim_delivery(int(time.time() * 1000) + 1000, 60_000)
        assert claimed is not None
        assert json.loads(claimed.body)["data"]["tags"] == {"secret.owner": SECRET}
    finally:
        stores.close()
