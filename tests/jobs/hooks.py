"""User code that custom tasks of the tests' deployment jobs call (allowed by the settings)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

CALLS = Path(os.environ.get("HERON_TEST_HOOK_LOG", "/nonexistent"))


def smoke(info: Any) -> dict[str, float]:
    """Passes, with a metric and a log line."""
    info.log(f"smoke test of {info.model_uri}")
    return {"smoke_score": 1.0}


def broken(info: Any) -> None:
    raise RuntimeError(f"smoke test of {info.name} v{info.version} failed")
