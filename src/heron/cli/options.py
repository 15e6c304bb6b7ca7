"""Options and output helpers the command groups share: tracking URI, rich tables, times."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any, TypeVar

import click
from rich.console import Console

F = TypeVar("F", bound=Callable[..., Any])

VIEW_TYPES = {"active_only": 1, "deleted_only": 2, "all": 3}

console = Console(highlight=False, soft_wrap=False)


def tracking_uri_option(func: F) -> F:
    """`--tracking-uri`: default `$HERON_TRACKING_URI`, `$MLFLOW_TRACKING_URI`, or the local
    data directory (`$HERON_HOME` or `./heron-data`)."""
    return click.option(
        "--tracking-uri",
        default=None,
        metavar="URI",
        help="Server URL, database URI or data directory. Default: $HERON_TRACKING_URI, "
        "$MLFLOW_TRACKING_URI, else the local data directory ($HERON_HOME or ./heron-data).",
    )(func)


def view_option(func: F) -> F:
    return click.option(
        "--view",
        type=click.Choice(list(VIEW_TYPES), case_sensitive=False),
        default="active_only",
        show_default=True,
        help="Which lifecycle stages to list.",
    )(func)


def format_time(ms: int | None) -> str:
    """Milliseconds since the epoch as local time, to the second; '' for None."""
    if ms is None:
        return ""
    return dt.datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d %H:%M:%S")


def format_duration(start_ms: int, end_ms: int | None) -> str:
    if end_ms is None:
        return ""
    seconds = max(end_ms - start_ms, 0) / 1000
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, sec = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{sec:02d}s"


def masked(uri: str) -> str:
    """The URI with any password replaced by `***`, safe to print."""
    return re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", uri)


def backend_store_option(func: F) -> F:
    return click.option(
        "--backend-store-uri",
        default=None,
        metavar="URI",
        help="sqlite:///path or postgresql://... Default: SQLite in the data directory.",
    )(func)


def artifacts_destination_option(func: F) -> F:
    return click.option(
        "--artifacts-destination",
        default=None,
        metavar="PATH|s3://...",
        help="Where proxied artifacts are stored. Default: <data directory>/artifacts.",
    )(func)


def default_artifact_root_option(func: F) -> F:
    return click.option(
        "--default-artifact-root",
        default=None,
        metavar="URI",
        help="Artifact root of new experiments. Default: mlflow-artifacts: (proxied).",
    )(func)


def encryption_key_option(func: F) -> F:
    return click.option(
        "--encryption-key",
        default=None,
        envvar="HERON_ENCRYPTION_KEY",
        metavar="PATH|aws-kms://KEY",
        help="Encrypt artifacts at rest with this customer-managed key: a key file "
        "(`heron keys create`) or aws-kms://<key id, ARN or alias>. Env: HERON_ENCRYPTION_KEY.",
    )(func)


def sensitive_keys_option(func: F) -> F:
    return click.option(
        "--sensitive-keys",
        default=None,
        envvar="HERON_SENSITIVE_KEYS",
        metavar="PATTERN,...",
        help="Store the values of params, tags and span attributes whose keys match these glob "
        "patterns encrypted (comma-separated, ignoring case, e.g. '*password*,secret.*'); "
        "needs --encryption-key. Env: HERON_SENSITIVE_KEYS.",
    )(func)
