"""GenAI evaluation: a judge's cached verdict."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True, kw_only=True)
class CachedVerdict:
    """What a judge answered to one prompt, kept so the same question is not paid twice.
    `key` is the SHA-256 of the judge's digest, its model and the prompt."""

    key: str
    scorer_digest: str
    model: str
    value: Any  # a JSON value
    rationale: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    create_time: int = 0  # ms since epoch
    hits: int = 0
