"""Heron's judge cache over HTTP: /judge-cache/get and /judge-cache/put, so evaluations run
against this server share the verdicts judges already gave; and /judge-limits/merge, the
token bucket of each judge endpoint that the processes calling it share."""

from __future__ import annotations

from typing import Any

from heron.entities.evaluation import CachedVerdict
from heron.server.wire import Endpoints, Fields, Json
from heron.services.access import requires
from heron.services.judge_cache import JudgeCacheService
from heron.services.judge_limits import JudgeLimitService
from heron.web.routes import PolicyRoute


def verdict_json(v: CachedVerdict) -> Json:
    return {
        "key": v.key,
        "scorer_digest": v.scorer_digest,
        "model": v.model,
        "value": v.value,
        "rationale": v.rationale,
        "input_tokens": v.input_tokens,
        "output_tokens": v.output_tokens,
        "cost_usd": v.cost_usd,
        "create_time": v.create_time,
        "hits": v.hits,
    }


def routes(
    api: Endpoints, service: JudgeCacheService, limits: JudgeLimitService
) -> list[PolicyRoute]:
    def get_verdict(f: Fields) -> Json:
        verdict = service.get_verdict(f.required_string("key"))
        return {} if verdict is None else {"verdict": verdict_json(verdict)}

    def put_verdict(f: Fields) -> Json:
        given: Any = f.data
        service.put_verdict(
            CachedVerdict(
                key=f.required_string("key"),
                scorer_digest=f.required_string("scorer_digest"),
                model=f.required_string("model"),
                value=given.get("value"),
                rationale=f.string("rationale") or None,
                input_tokens=f.int64("input_tokens") or 0,
                output_tokens=f.int64("output_tokens") or 0,
                cost_usd=f.double("cost_usd") or 0.0,
                create_time=f.int64("create_time") or 0,
            )
        )
        return {}

    def merge_limits(f: Fields) -> Json:
        merged = limits.merge_limits(
            f.required_string("key"), f.int64("tokens") or 0, f.int64("pause_ms") or 0
        )
        return {
            "window_tokens": merged.window_tokens,
            "window_left_ms": merged.window_left_ms,
            "pause_left_ms": merged.pause_left_ms,
        }

    return [
        api.post("/judge-cache/get", get_verdict, requires("read", "dataset", "key")),
        api.post("/judge-cache/put", put_verdict, requires("create", "dataset", "key")),
        api.post("/judge-limits/merge", merge_limits, requires("update", "dataset", "key")),
    ]
