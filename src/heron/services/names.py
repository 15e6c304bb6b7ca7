"""Generated names for runs and logged models created without one (`calm-otter-512`)."""

from __future__ import annotations

import uuid

_ADJECTIVES = (
    "amber",
    "bold",
    "calm",
    "deft",
    "eager",
    "fair",
    "glad",
    "keen",
    "lucid",
    "mild",
    "neat",
    "proud",
    "quick",
    "rare",
    "sly",
    "tidy",
    "vast",
    "warm",
    "young",
    "zesty",
)
_NOUNS = (
    "heron",
    "otter",
    "lynx",
    "finch",
    "crane",
    "ibis",
    "moth",
    "newt",
    "orca",
    "puma",
    "quail",
    "raven",
    "seal",
    "tern",
    "vole",
    "wren",
    "yak",
    "zebu",
    "koi",
    "lark",
)


def generated_name() -> str:
    """A readable random name (`calm-otter-512`), as MLflow gives runs created without one."""
    n = uuid.uuid4().int
    return f"{_ADJECTIVES[n % 20]}-{_NOUNS[(n // 20) % 20]}-{(n // 400) % 1000}"
