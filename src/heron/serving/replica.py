"""The ASGI app of an endpoint replica (`heron serving worker`): every served entity of the
endpoint loaded as a scoring app, one of them chosen per request by the traffic routes.

What the replica serves (`Serving`) is swapped whole when a new configuration or alias
version is loaded, so a request is answered entirely by the old or the new models; the old
ones are closed once the requests they took are answered. Only a caller presenting the
replica's token (the tracking server, which reads it from the database) is answered."""

from __future__ import annotations

import asyncio
import hmac
import logging
import random
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from heron.entities.replica_headers import (
    EXECUTION_MS,
    REPLICA_STATE,
    REPLICA_TOKEN,
    SERVED_ENTITY,
    SERVED_VERSION,
)
from heron.entities.serving import ServedEntity, TrafficRoute
from heron.serving.app import ScoringApp

_log = logging.getLogger("heron.serving")

Scope = dict[str, Any]


@dataclass(slots=True, eq=False)
class Served:
    """One served entity's model, loaded, and the requests it is answering."""

    entity: ServedEntity
    version: str
    app: ScoringApp
    in_flight: int = 0
    retired: bool = False

    def close(self) -> None:
        self.app.batcher.close()


@dataclass(frozen=True, slots=True)
class Serving:
    """What a replica serves: one configuration version's entities and routes."""

    config_version: int
    entities: Mapping[str, Served]
    routes: Sequence[TrafficRoute]
    weights: tuple[list[str], list[int]] = field(default=([], []))

    @classmethod
    def of(
        cls, config_version: int, entities: Mapping[str, Served], routes: Sequence[TrafficRoute]
    ) -> Serving:
        names = [r.served_entity_name for r in routes if r.traffic_percentage > 0]
        weights = [r.traffic_percentage for r in routes if r.traffic_percentage > 0]
        return cls(config_version, entities, routes, (names, weights))

    def choose(self) -> str:
        names, weights = self.weights
        return random.choices(names, weights)[0]  # noqa: S311 - traffic split, not secrets

    @property
    def versions(self) -> dict[str, str]:
        return {name: served.version for name, served in self.entities.items()}


class ReplicaApp:
    def __init__(self, token: str) -> None:
        self.token = token.encode()
        self.serving: Serving | None = None
        self.stopping = False
        self._lock = threading.Lock()

    def swap(self, serving: Serving) -> None:
        """Serves `serving` from now on; the models it no longer holds close once idle."""
        with self._lock:
            old, self.serving = self.serving, serving
        if old is None:
            return
        kept = {id(s) for s in serving.entities.values()}
        for served in old.entities.values():
            if id(served) not in kept:
                served.retired = True
                if served.in_flight == 0:
                    served.close()

    def close(self) -> None:
        """Closes every model (scoring what is queued first)."""
        self.stopping = True
        serving, self.serving = self.serving, None
        if serving is not None:
            for served in serving.entities.values():
                served.close()

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await asyncio.to_thread(self.close)
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        path = scope["path"]
        if path in ("/ping", "/health"):
            ready = self.serving is not None and not self.stopping
            await _answer(send, 200 if ready else 503, b"\n" if ready else b"not ready\n")
        elif path == "/invocations" and scope["method"] == "POST":
            await self._invoke(scope, receive, send)
        else:
            await _answer(send, 404, b"Not Found")

    async def _invoke(self, scope: Scope, receive: Any, send: Any) -> None:
        given = _header(scope, REPLICA_TOKEN.encode())
        if given is None or not hmac.compare_digest(given, self.token):
            await _error(
                send, 403, "PERMISSION_DENIED", "This replica answers its tracking server only"
            )
            return
        serving = self.serving
        if serving is None or self.stopping:
            await _error(send, 503, "TEMPORARILY_UNAVAILABLE", "The replica is not serving",
                         [(REPLICA_STATE.encode(), b"stopping")])  # fmt: skip
            return
        asked = _header(scope, SERVED_ENTITY.encode())
        name = asked.decode("latin-1") if asked is not None else serving.choose()
        served = serving.entities.get(name)
        if served is None:
            await _error(send, 404, "RESOURCE_DOES_NOT_EXIST",
                         f"No served entity {name[:100]!r} on this endpoint")  # fmt: skip
            return
        await self._run(served, scope, receive, send)

    async def _run(self, served: Served, scope: Scope, receive: Any, send: Any) -> None:
        started = time.perf_counter()
        extra = [
            (SERVED_ENTITY.encode(), served.entity.name.encode()),
            (SERVED_VERSION.encode(), served.version.encode()),
        ]

        async def send_named(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                took = f"{(time.perf_counter() - started) * 1000:.1f}".encode()
                headers = [*message.get("headers", ()), *extra, (EXECUTION_MS.encode(), took)]
                message = {**message, "headers": headers}
            await send(message)

        served.in_flight += 1
        try:
            await served.app(scope, receive, send_named)
        finally:
            served.in_flight -= 1
            if served.retired and served.in_flight == 0:
                await asyncio.to_thread(served.close)


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None


async def _answer(
    send: Any, status: int, body: bytes, headers: list[tuple[bytes, bytes]] | None = None,
    media_type: bytes = b"text/plain",
) -> None:  # fmt: skip
    start = [(b"content-type", media_type), (b"content-length", str(len(body)).encode())]
    await send(
        {"type": "http.response.start", "status": status, "headers": start + (headers or [])}
    )
    await send({"type": "http.response.body", "body": body})


async def _error(
    send: Any,
    status: int,
    code: str,
    message: str,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    body = orjson.dumps({"error_code": code, "message": message})
    await _answer(send, status, body, headers, b"application/json")
