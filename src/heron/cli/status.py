"""`heron replicate` (artifacts to a second store, continuously) and `heron status` (the
database, encryption, backups and replication lag at a glance)."""

from __future__ import annotations

import click

from heron.cli.gc import parse_duration_ms
from heron.cli.options import (
    artifacts_destination_option,
    backend_store_option,
    console,
    encryption_key_option,
    format_time,
    masked,
    sensitive_keys_option,
)

REPLICA_ENV = "HERON_ARTIFACT_REPLICA"
BACKUPS_ENV = "HERON_BACKUP_DESTINATION"


@click.command()
@click.argument("replica", metavar="DEST", envvar=REPLICA_ENV)
@artifacts_destination_option
@click.option("--every", default="10s", show_default=True, help="Time between passes.")
@click.option("--once", is_flag=True, help="One pass, then exit.")
@click.option("--mirror-deletes", is_flag=True, help="Remove from DEST what the source lost.")
def replicate(
    replica: str, artifacts_destination: str | None, every: str, once: bool, mirror_deletes: bool
) -> None:
    """Copies the artifact store to DEST (a folder or s3://bucket/prefix) continuously: each
    pass copies what DEST lacks, as stored; `heron status --replica DEST` shows the lag."""
    from heron.services.replication import ReplicationState, replicate_forever
    from heron.settings import Settings
    from heron.store.artifacts import open_artifact_repository

    settings = Settings.for_home(artifacts_destination=artifacts_destination)

    def report(state: ReplicationState) -> None:
        console.print(
            f"{format_time(state.finished_ms)} {state.files} files, {state.copied_files} "
            f"copied ({state.copied_bytes} bytes), {state.removed_files} removed"
        )

    replicate_forever(
        open_artifact_repository(settings.artifacts_destination),
        open_artifact_repository(replica),
        every_s=parse_duration_ms(every) / 1000,
        on_pass=report,
        mirror_deletes=mirror_deletes,
        passes=1 if once else None,
    )


@click.command()
@backend_store_option
@artifacts_destination_option
@encryption_key_option
@sensitive_keys_option
@click.option("--backups", envvar=BACKUPS_ENV, metavar="DEST", help="Where backups go.")
@click.option("--replica", envvar=REPLICA_ENV, metavar="DEST", help="The artifact replica.")
def status(
    backend_store_uri: str | None,
    artifacts_destination: str | None,
    encryption_key: str | None,
    sensitive_keys: str | None,
    backups: str | None,
    replica: str | None,
) -> None:
    """The state of the store: database, encryption, the newest backup and the replica's lag."""
    from heron.client.uri import sql_uri
    from heron.clock import now_ms
    from heron.services.backup_manifest import list_backups
    from heron.services.replication import read_state
    from heron.settings import Settings, sensitive_key_patterns
    from heron.store.artifacts import open_artifact_repository
    from heron.store.crypto.fields import field_cipher
    from heron.store.sql import Database
    from heron.store.sql.migrate import current_revision
    from heron.store.sql.sealed_backfill import clear_counts

    settings = Settings.for_home(
        backend_store_uri=backend_store_uri, artifacts_destination=artifacts_destination
    )
    now = now_ms()
    patterns = sensitive_key_patterns(sensitive_keys)
    cipher = field_cipher(encryption_key, cache_s=60.0, sensitive_keys=patterns)
    database = Database(sql_uri(settings.backend_store_uri))
    try:
        revision = current_revision(database)
        in_clear = clear_counts(database, cipher) if cipher is not None and revision else None
    finally:
        database.dispose()
    console.print(f"database:    {masked(settings.backend_store_uri)} (schema {revision})")
    console.print(f"artifacts:   {masked(settings.artifacts_destination)}")
    if cipher is not None:
        console.print(
            f"encryption:  on, AES-256-GCM; new data keys wrapped by {cipher.primary_key_id()}"
        )
        console.print(
            "fields:      trace inputs and outputs (and spans' copies of them), assessments' "
            "rationales and expectations, token names and webhook secrets sealed in the "
            "database; values of params, tags and span attributes matching: "
            f"{', '.join(patterns) or 'none (--sensitive-keys or $HERON_SENSITIVE_KEYS)'}"
        )
        console.print(f"in clear:    {_in_clear(in_clear)}")
    else:
        console.print("encryption:  off (--encryption-key or $HERON_ENCRYPTION_KEY turns it on)")
    if backups:
        found = list_backups(open_artifact_repository(backups))
        if found:
            age = (now - found[0].snapshot_ms) / 3_600_000
            console.print(
                f"backups:     {len(found)} in {backups}; newest {found[0].backup_id}, "
                f"{age:.1f} h old ({format_time(found[0].snapshot_ms)})"
            )
        else:
            console.print(f"backups:     none in {backups}")
    else:
        console.print(f"backups:     not shown (--backups DEST or ${BACKUPS_ENV})")
    if replica:
        state = read_state(open_artifact_repository(replica))
        if state is None:
            console.print(f"replication: no pass finished yet to {replica}")
        else:
            console.print(
                f"replication: {replica}, lag {state.lag_s(now):.1f} s "
                f"({state.files} files, last pass {format_time(state.finished_ms)})"
            )
    else:
        console.print(f"replication: not shown (--replica DEST or ${REPLICA_ENV})")


def _in_clear(counts: dict[str, int] | None) -> str:
    """How many values the settings seal are still in clear, and where."""
    if counts is None:
        return "no database yet"
    total = sum(counts.values())
    if not total:
        return "none: every value the settings seal is sealed"
    where = ", ".join(f"{name} {n}" for name, n in counts.items() if n)
    return f"{total} values the settings seal ({where}): run `heron keys seal` to seal them"
