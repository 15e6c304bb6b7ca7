"""Chat completions over any OpenAI-compatible endpoint with httpx: one pooled connection per
endpoint, the endpoint's limiter around each call, and retries with exponential back-off and
jitter on 429, 5xx and dropped connections (Retry-After honoured)."""

from __future__ import annotations

import atexit
import random
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from heron.errors import InvalidParameter, TemporarilyUnavailable
from heron.genai.judges.endpoint import JudgeEndpoint
from heron.genai.judges.limiter import AdaptiveLimiter, limiter_for

_RETRIED = {408, 409, 429, 500, 502, 503, 504}
_BACKOFF_S = 0.25
_MAX_BACKOFF_S = 20.0

Message = Mapping[str, str]


@dataclass(frozen=True, slots=True, kw_only=True)
class Completion:
    text: str
    input_tokens: int
    output_tokens: int
    cost_usd: float


_clients: dict[str, httpx.Client] = {}
_clients_lock = threading.Lock()


def _http(endpoint: JudgeEndpoint) -> httpx.Client:
    with _clients_lock:
        client = _clients.get(endpoint.key)
        if client is None:
            pool = max(endpoint.max_concurrency * 2, 20)
            client = httpx.Client(
                timeout=endpoint.timeout_s,
                limits=httpx.Limits(max_connections=pool, max_keepalive_connections=pool),
            )
            _clients[endpoint.key] = client
        return client


def close_connections(base_url: str | None = None) -> None:
    """Closes the pooled connections to one endpoint (by base URL), or to all of them."""
    with _clients_lock:
        keys = [k for k in _clients if base_url is None or k == base_url.rstrip("/")]
        closing = [_clients.pop(k) for k in keys]
    for client in closing:
        client.close()


atexit.register(close_connections)


def complete(
    endpoint: JudgeEndpoint,
    messages: Sequence[Message],
    *,
    temperature: float = 0.0,
    extra: Mapping[str, Any] | None = None,
    limiter: AdaptiveLimiter | None = None,
) -> Completion:
    """The model's answer to `messages`.

    Raises:
        TemporarilyUnavailable: the endpoint kept answering 429 or 5xx (or could not be
            reached) through every retry.
        InvalidParameter: the endpoint refused the request (4xx): a wrong model, key or URL.
        BudgetExceeded: the endpoint's budget is spent.
    """
    limiter = limiter or limiter_for(endpoint)
    body = {"model": endpoint.model, "messages": list(messages), "temperature": temperature,
            **(extra or {})}  # fmt: skip
    estimate = sum(len(m.get("content", "")) for m in messages) // 4 + 256
    last = "no answer"
    for attempt in range(endpoint.max_retries + 1):
        if attempt:
            time.sleep(_backoff(attempt))
        with limiter.slot(estimate):
            try:
                answer = _http(endpoint).post(
                    f"{endpoint.key}/chat/completions", json=body, headers=_headers(endpoint)
                )
            except httpx.TransportError as exc:
                last = f"{type(exc).__name__}: {exc}"
                continue
            if answer.status_code == 429:
                limiter.throttled(_retry_after(answer))
            if answer.status_code in _RETRIED:
                last = f"HTTP {answer.status_code}: {answer.text[:200]}"
                continue
        if answer.status_code >= 400:
            raise InvalidParameter(
                f"The judge endpoint {endpoint.key} refused the request (HTTP "
                f"{answer.status_code}): {answer.text[:300]}"
            )
        completion = _parse(endpoint, answer)
        limiter.succeeded(completion.input_tokens + completion.output_tokens, completion.cost_usd)
        return completion
    raise TemporarilyUnavailable(
        f"The judge endpoint {endpoint.key} failed {endpoint.max_retries + 1} times; last: {last}"
    )


def _headers(endpoint: JudgeEndpoint) -> dict[str, str]:
    return {"Authorization": f"Bearer {endpoint.api_key}"} if endpoint.api_key else {}


def _backoff(attempt: int) -> float:
    jitter = 0.5 + random.random()  # noqa: S311 (not for secrets)
    return float(min(_MAX_BACKOFF_S, _BACKOFF_S * 2 ** (attempt - 1)) * jitter)


def _retry_after(answer: httpx.Response) -> float | None:
    text = answer.headers.get("retry-after", "").strip()
    try:
        return max(0.0, float(text)) if text else None
    except ValueError:
        return None


def _parse(endpoint: JudgeEndpoint, answer: httpx.Response) -> Completion:
    try:
        body = answer.json()
        text = body["choices"][0]["message"]["content"] or ""
    except (ValueError, KeyError, IndexError, TypeError):
        raise TemporarilyUnavailable(
            f"The judge endpoint {endpoint.key} answered no chat completion: {answer.text[:200]}"
        ) from None
    usage = body.get("usage") or {}
    tokens_in = _count(usage.get("prompt_tokens"))
    tokens_out = _count(usage.get("completion_tokens"))
    return Completion(
        text=str(text), input_tokens=tokens_in, output_tokens=tokens_out,
        cost_usd=endpoint.cost_usd(tokens_in, tokens_out),
    )  # fmt: skip


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0
