"""Where judges send their prompts: any OpenAI-compatible endpoint (base URL, model, key), with
the limits it is used within and the prices its tokens cost."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace

from heron.errors import InvalidParameter

DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_MODEL = "gpt-4o-mini"
DEFAULT_MAX_CONCURRENCY = 16

# USD per million input and output tokens of some common judge models (list prices when this
# was written; `$HERON_JUDGE_PRICES` or `prices=` override them). A model not listed costs 0.
LIST_PRICES: Mapping[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class JudgeEndpoint:
    """An OpenAI-compatible chat completions endpoint and how it may be used.

    `max_concurrency` calls at once at most (the limiter lowers it on 429s and raises it
    back); `tokens_per_minute` paces calls to that many tokens (prompt and answer; None: no
    pacing); `budget_usd` stops calls once that much has been spent in this process."""

    base_url: str = DEFAULT_BASE_URL
    model: str = DEFAULT_MODEL
    api_key: str | None = None
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY
    tokens_per_minute: int | None = None
    budget_usd: float | None = None
    price_in_per_mtok: float = 0.0
    price_out_per_mtok: float = 0.0
    timeout_s: float = 120.0
    max_retries: int = 6

    @property
    def key(self) -> str:
        """What one limiter is shared by: the endpoint, whatever model is asked."""
        return self.base_url.rstrip("/")

    @property
    def model_uri(self) -> str:
        """The model as MLflow names a judge's source (`openai:/gpt-4o-mini`)."""
        return f"openai:/{self.model}"

    def cost_usd(self, input_tokens: int, output_tokens: int) -> float:
        return (
            input_tokens * self.price_in_per_mtok + output_tokens * self.price_out_per_mtok
        ) / 1e6

    def with_model(self, model: str | None) -> JudgeEndpoint:
        """This endpoint asking another model: `gpt-4o`, or MLflow's form `openai:/gpt-4o`."""
        if not model:
            return self
        name = model.split(":/", 1)[1] if ":/" in model else model
        if not name.strip("/"):
            raise InvalidParameter(f"Judge model {model!r} names no model")
        prices = LIST_PRICES.get(name)
        if prices is None or name == self.model:
            return replace(self, model=name)
        return replace(self, model=name, price_in_per_mtok=prices[0], price_out_per_mtok=prices[1])


def endpoint_from_env(environ: Mapping[str, str] | None = None) -> JudgeEndpoint:
    """The endpoint the environment configures: `$HERON_JUDGE_BASE_URL` (or
    `$OPENAI_BASE_URL`), `$HERON_JUDGE_MODEL`, `$HERON_JUDGE_API_KEY` (or `$OPENAI_API_KEY`),
    `$HERON_JUDGE_MAX_CONCURRENCY`, `$HERON_JUDGE_TOKENS_PER_MINUTE`, `$HERON_JUDGE_BUDGET_USD`
    and `$HERON_JUDGE_PRICES` ("0.15,0.60": USD per million input and output tokens)."""
    env = os.environ if environ is None else environ

    def get(*names: str) -> str | None:
        return next((env[n].strip() for n in names if env.get(n, "").strip()), None)

    model = get("HERON_JUDGE_MODEL") or DEFAULT_MODEL
    price_in, price_out = LIST_PRICES.get(model, (0.0, 0.0))
    prices = get("HERON_JUDGE_PRICES")
    if prices is not None:
        price_in, price_out = _prices(prices)
    return JudgeEndpoint(
        base_url=get("HERON_JUDGE_BASE_URL", "OPENAI_BASE_URL") or DEFAULT_BASE_URL,
        model=model,
        api_key=get("HERON_JUDGE_API_KEY", "OPENAI_API_KEY"),
        max_concurrency=_positive_int(get("HERON_JUDGE_MAX_CONCURRENCY"), "MAX_CONCURRENCY")
        or DEFAULT_MAX_CONCURRENCY,
        tokens_per_minute=_positive_int(get("HERON_JUDGE_TOKENS_PER_MINUTE"), "TOKENS_PER_MINUTE"),
        budget_usd=_positive_float(get("HERON_JUDGE_BUDGET_USD"), "BUDGET_USD"),
        price_in_per_mtok=price_in,
        price_out_per_mtok=price_out,
    )


def _positive_int(text: str | None, name: str) -> int | None:
    if text is None:
        return None
    if not text.isdigit() or int(text) < 1:
        raise InvalidParameter(f"$HERON_JUDGE_{name} must be a positive integer, not {text!r}")
    return int(text)


def _positive_float(text: str | None, name: str) -> float | None:
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0 or value == float("inf"):
        raise InvalidParameter(f"$HERON_JUDGE_{name} must be a positive number, not {text!r}")
    return value


def _prices(text: str) -> tuple[float, float]:
    parts = text.split(",")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    if len(values) != 2 or any(not 0 <= v < float("inf") for v in values):
        raise InvalidParameter(
            f"$HERON_JUDGE_PRICES is 'input,output' USD per million tokens, not {text!r}"
        )
    return values[0], values[1]
