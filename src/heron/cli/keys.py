"""`heron keys create|rotate|retire|rewrap|seal`: the customer-managed key of encryption at rest."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from heron.cli.options import (
    artifacts_destination_option,
    backend_store_option,
    console,
    encryption_key_option,
    masked,
    sensitive_keys_option,
)

if TYPE_CHECKING:
    from heron.store.sql.database import Database


@click.group()
def keys() -> None:
    """The key that encrypts artifacts and sensitive database fields at rest: a key file, or
    a KMS key (aws-kms://...)."""


@keys.command("create")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def create(path: Path) -> None:
    """Writes a new key file at PATH (mode 0600) holding one random 256-bit key. Keep a copy
    somewhere safe: without it, what it encrypts cannot be read."""
    from heron.store.crypto.keys import create_key_file

    key_id = create_key_file(path)
    console.print(
        f"Created {path} with key {key_id}: start the server with --encryption-key {path}"
    )


@keys.command("rotate")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def rotate(path: Path) -> None:
    """Adds a new key to the key file PATH and makes it the primary: new writes use it at
    once (a running server reads the file again), older files keep working; then run
    `heron keys rewrap`."""
    from heron.store.crypto.keys import rotate_key_file

    console.print(f"New primary key {rotate_key_file(path)}; run `heron keys rewrap` next")


@keys.command("retire")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("key_id")
def retire(path: Path, key_id: str) -> None:
    """Removes KEY_ID from the key file (after `heron keys rewrap`): anything still wrapped
    by it becomes unreadable, and is refused with an error naming the key."""
    from heron.store.crypto.keys import retire_key

    retire_key(path, key_id)
    console.print(f"Removed key {key_id} from {path}")


@keys.command("rewrap")
@backend_store_option
@artifacts_destination_option
@encryption_key_option
def rewrap(
    backend_store_uri: str | None, artifacts_destination: str | None, encryption_key: str | None
) -> None:
    """Wraps the data key of every artifact again with the current primary key, while the
    server keeps serving (contents are copied as they are, not decrypted), and seals every
    encrypted database field again under the primary key. Files and fields written before
    encryption was turned on are left as they are (and keep reading)."""
    from heron.settings import Settings

    if not encryption_key:
        raise click.UsageError("Give the key: --encryption-key or $HERON_ENCRYPTION_KEY")
    settings = Settings.for_home(
        artifacts_destination=artifacts_destination, backend_store_uri=backend_store_uri
    )
    _rewrap_artifacts(settings.artifacts_destination, encryption_key)
    _rewrap_fields(settings.backend_store_uri, encryption_key)


def _rewrap_artifacts(destination: str, encryption_key: str) -> None:
    from heron.store.artifacts import open_artifact_repository
    from heron.store.artifacts.encrypted import EncryptedArtifactRepository
    from heron.store.artifacts.walk import walk_files
    from heron.store.crypto.envelope import DataKeys, open_key_provider

    repository = EncryptedArtifactRepository(
        open_artifact_repository(destination), DataKeys(open_key_provider(encryption_key))
    )
    moved = kept = 0
    for info in walk_files(repository):
        if repository.rewrap(info.path):
            moved += 1
        else:
            kept += 1
    console.print(
        f"Re-wrapped {moved} files with key {repository.keys.provider.primary_key_id()}; "
        f"{kept} were already wrapped by it (or are not encrypted)"
    )


def _rewrap_fields(backend_store_uri: str, encryption_key: str) -> None:
    from heron.store.crypto.fields import field_cipher
    from heron.store.sql.sealed_rewrap import rewrap_fields

    database = _database(backend_store_uri)
    if database is None:
        console.print(f"No database at {masked(backend_store_uri)}: no fields to re-seal")
        return
    cipher = field_cipher(encryption_key, cache_s=60.0)
    assert cipher is not None  # noqa: S101 - a key was given
    try:
        moved = rewrap_fields(database, cipher)
    finally:
        database.dispose()
    console.print(f"Re-sealed {moved} database fields with key {cipher.primary_key_id()}")


def _database(backend_store_uri: str) -> Database | None:
    """The database, its schema brought up to date; None when a SQLite file is not there."""
    from sqlalchemy.engine import make_url

    from heron.store.sql.database import Database
    from heron.store.sql.migrate import upgrade_if_needed

    url = make_url(backend_store_uri)
    if url.get_backend_name() == "sqlite" and not Path(url.database or "").is_file():
        return None
    database = Database(backend_store_uri)
    try:
        upgrade_if_needed(database)
    except BaseException:
        database.dispose()
        raise
    return database


@keys.command("seal")
@backend_store_option
@encryption_key_option
@sensitive_keys_option
def seal(
    backend_store_uri: str | None, encryption_key: str | None, sensitive_keys: str | None
) -> None:
    """Seals the database values that the settings seal but that were written in clear
    (before encryption was on, or before their key matched a --sensitive-keys pattern):
    trace previews and the copies in their metadata, spans' inputs and outputs, tokens' names
    and their audit entries, webhook secrets, and the values of params and tags whose keys
    match. A batch at a time, while servers serve; safe to stop (or kill) and run again:
    what is sealed already is left as it is. Give it the server's --sensitive-keys."""
    from heron.settings import Settings, sensitive_key_patterns
    from heron.store.crypto.fields import field_cipher
    from heron.store.sql.sealed_backfill import seal_clear

    if not encryption_key:
        raise click.UsageError("Give the key: --encryption-key or $HERON_ENCRYPTION_KEY")
    uri = Settings.for_home(backend_store_uri=backend_store_uri).backend_store_uri
    cipher = field_cipher(
        encryption_key, cache_s=60.0, sensitive_keys=sensitive_key_patterns(sensitive_keys)
    )
    assert cipher is not None  # noqa: S101 - a key was given
    database = _database(uri)
    if database is None:
        console.print(f"No database at {masked(uri)}: nothing to seal")
        return
    try:
        sealed = seal_clear(database, cipher, on_batch=_progress())
    finally:
        database.dispose()
    console.print(
        f"Sealed {sealed} database values with key {cipher.primary_key_id()} "
        f"({masked(uri)}); none is left in clear"
    )


def _progress() -> Callable[[str, int], None]:
    """Prints the field being sealed and the count so far, at most every second."""
    last_field, last_time = "", 0.0

    def show(field: str, sealed: int) -> None:
        nonlocal last_field, last_time
        now = time.monotonic()
        if field != last_field or now - last_time >= 1.0:
            last_field, last_time = field, now
            console.print(f"  {field}: {sealed} sealed so far")

    return show
