"""The tags that say who started a run and from where, set as MLflow's client sets them."""

from __future__ import annotations

import getpass
import os
import sys

from heron.entities import reserved


def user_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def source_name() -> str:
    """The script that is running, or `<console>` in an interactive session."""
    main = sys.argv[0] if sys.argv else ""
    if not main or main in ("-c", "-m"):
        return "<console>"
    return os.path.abspath(main) if os.path.exists(main) else main


def source_tags() -> dict[str, str]:
    """`mlflow.user`, `mlflow.source.name` and `mlflow.source.type` for a new run."""
    return {
        reserved.USER: user_name(),
        reserved.SOURCE_NAME: source_name(),
        reserved.SOURCE_TYPE: "LOCAL",
    }
