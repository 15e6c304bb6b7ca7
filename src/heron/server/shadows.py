"""Shadow traffic: a share of an endpoint's requests, once answered, is sent again to a
shadow entity; its answer is thrown away but compared with the served one (agreement rate,
latency difference), and the verdict lands in the endpoint's statistics."""

from __future__ import annotations

import asyncio
import math
import random
import time
from typing import TYPE_CHECKING, Any

import orjson

from heron.entities.replica_headers import REPLICA_TOKEN, SERVED_ENTITY, SERVED_VERSION
from heron.server.replica_client import Timeout, Unreachable
from heron.services.serving_endpoints import Target

if TYPE_CHECKING:
    from heron.server.invocations import InvocationProxy

MAX_IN_FLIGHT = 64  # shadow requests at once; past this, requests are not mirrored


class Shadows:
    def __init__(self, proxy: InvocationProxy) -> None:
        self.proxy = proxy
        self._tasks: set[asyncio.Task[None]] = set()

    def mirror(
        self, target: Target, body: bytes, content_type: str, answer: bytes, answer_ms: float
    ) -> None:
        """Sends `body` to each shadow route of `target` (its share of the time), off the
        request's path."""
        for route in target.shadow_routes:
            if random.random() * 100 >= route.traffic_percentage:  # noqa: S311 - sampling
                continue
            if len(self._tasks) >= MAX_IN_FLIGHT:
                return
            task = asyncio.create_task(
                self._one(target, route.served_entity_name, body, content_type, answer, answer_ms)
            )
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Waits for the shadow requests in flight."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _one(
        self,
        target: Target,
        entity: str,
        body: bytes,
        content_type: str,
        answer: bytes,
        answer_ms: float,
    ) -> None:
        replica = self.proxy.pick(target.replicas, set())
        if replica is None:
            return
        headers = [
            (b"content-type", content_type.encode("latin-1")),
            (REPLICA_TOKEN.encode(), replica.token.encode()),
            (SERVED_ENTITY.encode(), entity.encode()),
        ]
        started = time.perf_counter()
        try:
            response = await self.proxy.client.post(
                replica.url + "/invocations", body, headers, timeout_s=self.proxy.timeout_s
            )
            content = await response.read()
        except (Unreachable, Timeout):
            ok, agreed, version = False, False, ""
        else:
            ok = response.status == 200
            agreed = ok and _agree(answer, content)
            version = (response.header(SERVED_VERSION.encode()) or b"").decode("latin-1")
        shadow_ms = (time.perf_counter() - started) * 1000
        verdict = "error" if not ok else "agreed" if agreed else "differed"
        self.proxy.metrics.shadow.labels(target.name, entity, version, verdict).inc()
        self.proxy.inference.observe_shadow(
            target.endpoint_id, entity, version, ok=ok, agreed=agreed,
            latency_diff_ms=shadow_ms - answer_ms,
        )  # fmt: skip


def _agree(served: bytes, shadow: bytes) -> bool:
    try:
        return same(orjson.loads(served), orjson.loads(shadow))
    except orjson.JSONDecodeError:
        return served == shadow


def same(a: Any, b: Any) -> bool:
    """Whether two JSON answers agree: equal, numbers within a relative 1e-6."""
    if isinstance(a, bool) or isinstance(b, bool):
        return bool(a == b)
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9) or bool(a != a and b != b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return bool(a == b)
