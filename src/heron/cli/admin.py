"""`heron admin` and `heron audit`: users and the audit log, straight on the database."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

import click
import orjson

from heron.cli.options import backend_store_option, console

if TYPE_CHECKING:
    from heron.services.security.bundle import SecurityServices

OPERATOR = "heron-admin"  # who the audit log says made a change from the command line


@contextlib.contextmanager
def security_on(backend_store_uri: str | None) -> Iterator[SecurityServices]:
    """The security services on the database, run as its operator (who holds the database
    itself, so may do anything an admin may)."""
    from heron.client.uri import sql_uri
    from heron.services.access import Identity, identity_scope
    from heron.services.security.bundle import build_security
    from heron.settings import PROXIED_ARTIFACT_ROOT, Settings
    from heron.store.sql import open_sql_stores

    uri = sql_uri(backend_store_uri or Settings.for_home().backend_store_uri)
    stores = open_sql_stores(uri, default_artifact_root=PROXIED_ARTIFACT_ROOT)
    try:
        with identity_scope(Identity(name=OPERATOR, authenticated=True, is_admin=True)):
            yield build_security(stores.security)
    finally:
        stores.close()


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


@click.group()
def admin() -> None:
    """Manage users (for the first admin, and when no admin can sign in)."""


@admin.command("create-user")
@click.argument("username")
@click.option("--admin", "is_admin", is_flag=True, help="Make the user an admin.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@backend_store_option
def create_user(
    username: str, is_admin: bool, password_stdin: bool, backend_store_uri: str | None
) -> None:
    """Creates a user (prompts for the password; there is no default)."""
    password = _password(password_stdin)
    with security_on(backend_store_uri) as security:
        security.principals.create_user(username, password, is_admin=is_admin)
    console.print(f"Created {'admin' if is_admin else 'user'} {username}")


@admin.command("set-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@backend_store_option
def set_password(username: str, password_stdin: bool, backend_store_uri: str | None) -> None:
    """Sets a user's password (and lifts a lockout)."""
    password = _password(password_stdin)
    with security_on(backend_store_uri) as security:
        security.principals.update_password(username, password, None)
    console.print(f"Password of {username} changed")


@click.group()
def audit() -> None:
    """Read and check the audit log."""


@audit.command()
@backend_store_option
def verify(backend_store_uri: str | None) -> None:
    """Checks the hash chain of the whole log; exits 1 if any entry was changed or removed."""
    with security_on(backend_store_uri) as security:
        result = security.audit.verify()
    if not result.ok:
        console.print(f"[red]Audit log broken[/red]: {result.problem} ({result.checked} checked)")
        raise SystemExit(1)
    console.print(
        f"Audit log intact: {result.checked} entries, head {result.head_seq} {result.head_hash}"
    )


@audit.command("export")
@click.option("--since-seq", type=int, default=0, help="Only entries after this number.")
@backend_store_option
def export(since_seq: int, backend_store_uri: str | None) -> None:
    """Writes the log as JSON lines, oldest first."""
    from heron.store.security import AuditQuery

    with security_on(backend_store_uri) as security:
        seq = since_seq
        while entries := security.audit.entries(AuditQuery(after_seq=seq, max_results=1000)):
            for entry in entries:
                sys.stdout.buffer.write(orjson.dumps(entry) + b"\n")
            seq = entries[-1].seq
