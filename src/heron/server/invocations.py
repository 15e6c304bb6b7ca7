"""`POST /serving-endpoints/{name}/invocations`: the tracking server hands each request to a
replica of the endpoint (it never loads a model itself) and relays the answer.

A replica that cannot be reached (gone, restarting, killed) is set aside for a few seconds
and the request goes to the next one, so callers see no failure while one replica of
several dies; with none reachable the request waits (up to `wait_s`) for one to come back.
The answer names the served entity and model version that gave it (`x-heron-served-entity`,
`x-heron-served-version`) and carries the request id the inference table files it under
(`x-request-id`). Each answer is counted in the endpoint's statistics, captured when its
inference table is on (sampled), and mirrored to the shadow routes (`shadows.py`)."""

from __future__ import annotations

import asyncio
import itertools
import random
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.types import Receive, Scope, Send

from heron.entities.replica_headers import (
    EXECUTION_MS,
    REPLICA_STATE,
    REPLICA_TOKEN,
    SERVED_ENTITY,
    SERVED_VERSION,
    TRACE_ID,
)
from heron.entities.serving import Replica
from heron.errors import InvalidParameter, TemporarilyUnavailable
from heron.server.replica_client import ReplicaClient, Response, Timeout, Unreachable
from heron.server.serving_metrics import EndpointMetrics
from heron.server.shadows import Shadows
from heron.server.wire import read_body
from heron.services.access import current_identity, requires
from heron.services.inference import MAX_CLIENT_REQUEST_ID, InferenceService
from heron.services.inference_capture import Exchange
from heron.services.serving_endpoints import EndpointService, Target
from heron.web.routes import PolicyRoute

_RELAYED = (b"content-type", b"retry-after", SERVED_ENTITY.encode(), SERVED_VERSION.encode(),
            TRACE_ID.encode())  # fmt: skip
_SET_ASIDE_S = 3.0
_CLIENT_ID_KEY = b'"client_request_id"'


@dataclass(slots=True)
class _Answer:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    chunks: list[bytes] | None
    replica: Replica
    error_codes: list[str] = field(default_factory=list)


class InvocationProxy:
    """The invocation routes and the HTTP client they reach replicas with."""

    def __init__(
        self,
        endpoints: EndpointService,
        inference: InferenceService,
        *,
        max_request_bytes: int,
        timeout_s: float = 60.0,
        wait_s: float = 30.0,
    ) -> None:
        self.endpoints = endpoints
        self.inference = inference
        self.max_request_bytes = max_request_bytes
        self.timeout_s = timeout_s
        self.wait_s = wait_s
        self.client = ReplicaClient()
        self._turn = itertools.count()
        self._set_aside: dict[str, float] = {}
        self.shadows = Shadows(self)
        self.metrics = EndpointMetrics()

    def routes(self) -> list[PolicyRoute]:
        policy = requires("execute", "serving_endpoint", "name")
        base = "/serving-endpoints/{name}"
        return [
            self.metrics.route(self.endpoints.endpoint_names),
            PolicyRoute(base + "/invocations", self, methods=["POST"], policy=policy),
            PolicyRoute(
                base + "/served-models/{entity}/invocations",
                self,
                methods=["POST"],
                policy=policy,
            ),
        ]

    async def aclose(self) -> None:
        await self.shadows.drain()
        self.client.close()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        name: str = scope["path_params"]["name"]
        entity: str | None = scope["path_params"].get("entity")
        target = await self._target(name)
        body = await read_body(scope, receive, self.max_request_bytes)
        content_type = _header(scope, b"content-type") or "application/json"
        original = body
        body, client_request_id = _client_request_id(body)
        request_id = str(uuid.uuid4())
        started_at, started = int(time.time() * 1000), time.perf_counter()
        answer = await self._forward(target, body, content_type, entity, send, request_id)
        elapsed_ms = (time.perf_counter() - started) * 1000
        entity_name = _get(answer.headers, SERVED_ENTITY)
        version = _get(answer.headers, SERVED_VERSION)
        self.inference.observe(target.endpoint_id, entity_name, version, answer.status, elapsed_ms)
        self.metrics.requests.labels(name, entity_name, version, str(answer.status)).inc()
        self.metrics.latency.labels(name, entity_name, version).observe(elapsed_ms / 1000)
        table = target.inference_table
        if table.enabled and random.random() < table.sampling_fraction:  # noqa: S311 - sampling
            executed = _get(answer.headers, EXECUTION_MS)
            captured = self.inference.capture(
                Exchange(
                    request_id=request_id,
                    endpoint_id=target.endpoint_id,
                    endpoint_name=target.name,
                    request_time=started_at,
                    status_code=answer.status,
                    execution_duration_ms=int(float(executed)) if executed else round(elapsed_ms),
                    served_entity=entity_name,
                    served_version=version,
                    requester=current_identity().name,
                    request=original,
                    response=answer.body,
                    chunks=answer.chunks,
                    client_request_id=client_request_id,
                    trace_id=_get(answer.headers, TRACE_ID) or None,
                    error_codes=answer.error_codes,
                )
            )
            if not captured:
                self.metrics.dropped.labels(name).inc()
        if entity is None and answer.status == 200 and answer.chunks is None:
            self.shadows.mirror(target, body, content_type, answer.body, elapsed_ms)

    async def _target(self, name: str) -> Target:
        cached = self.endpoints.cached_target(name)
        if cached is not None:
            return cached
        return await run_in_threadpool(self.endpoints.target, name)

    def pick(self, replicas: Sequence[Replica], tried: set[str]) -> Replica | None:
        """The next replica round the ring that is neither tried nor set aside."""
        now = time.monotonic()
        usable = [
            r for r in replicas
            if r.replica_id not in tried and self._set_aside.get(r.replica_id, 0.0) <= now
        ]  # fmt: skip
        if not usable:
            return None
        return usable[next(self._turn) % len(usable)]

    def set_aside(self, replica: Replica) -> None:
        self._set_aside[replica.replica_id] = time.monotonic() + _SET_ASIDE_S

    async def _forward(
        self,
        target: Target,
        body: bytes,
        content_type: str,
        entity: str | None,
        send: Send,
        request_id: str,
    ) -> _Answer:
        """Sends the request to a replica (another one while one cannot be reached) and
        relays its answer to the caller."""
        deadline = time.monotonic() + self.wait_s
        tried: set[str] = set()
        while True:
            replica = self.pick(target.replicas, tried)
            if replica is None:
                if time.monotonic() > deadline:
                    raise TemporarilyUnavailable(
                        f"Serving endpoint {target.name!r} has no ready replica: start one "
                        "with `heron serving worker` or `heron server --serve-endpoints`"
                    )
                await asyncio.sleep(0.1)
                target = await run_in_threadpool(self.endpoints.target, target.name)
                tried.clear()
                continue
            headers = [
                (b"content-type", content_type.encode("latin-1")),
                (REPLICA_TOKEN.encode(), replica.token.encode()),
                (b"x-request-id", request_id.encode()),
            ]
            if entity is not None:
                headers.append((SERVED_ENTITY.encode(), entity.encode()))
            try:
                response = await self.client.post(
                    replica.url + "/invocations", body, headers, timeout_s=self.timeout_s
                )
                if (
                    response.status == 503
                    and response.header(REPLICA_STATE.encode()) == b"stopping"
                ):
                    response.close()
                    raise Unreachable("the replica is stopping")
                return await _relay(response, replica, send, request_id)
            except Unreachable:  # nothing was sent to the caller yet (see _relay)
                self.set_aside(replica)
                tried.add(replica.replica_id)
            except Timeout:
                raise _deadline(self.timeout_s) from None


async def _relay(response: Response, replica: Replica, send: Send, request_id: str) -> _Answer:
    """Reads a replica's answer and sends it on. A whole answer is read before anything is
    sent (so a replica dying midway can still be retried); a stream of server-sent events is
    passed on event by event."""
    headers = [(k, v) for k, v in response.headers if k in _RELAYED]
    headers.append((b"x-request-id", request_id.encode()))
    streamed = (response.header(b"content-type") or b"").startswith(b"text/event-stream")
    if not streamed:
        body = await response.read()
        sent = [*headers, (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": response.status, "headers": sent})
        await send({"type": "http.response.body", "body": body})
        return _Answer(response.status, headers, body, None, replica)
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    chunks: list[bytes] = []
    buffer = b""
    codes: list[str] = []
    try:
        async for piece in response.pieces():
            await send({"type": "http.response.body", "body": piece, "more_body": True})
            buffer += piece
            *events, buffer = buffer.split(b"\n\n")
            for event in events:
                data = event.removeprefix(b"data: ").strip()
                if data and data != b"[DONE]":
                    chunks.append(data)
    except (Unreachable, Timeout):  # the caller got part of the stream: end it there
        codes.append("STREAM_INTERRUPTED")
    await send({"type": "http.response.body", "body": b""})
    return _Answer(response.status, headers, b"", chunks, replica, codes)


def _client_request_id(body: bytes) -> tuple[bytes, str | None]:
    """Databricks compat: a JSON body may carry `client_request_id` at its top; it goes to the
    inference table and is taken out of what the model sees."""
    if _CLIENT_ID_KEY not in body:
        return body, None
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        return body, None
    if not isinstance(value, dict) or "client_request_id" not in value:
        return body, None
    given = value.pop("client_request_id")
    if not isinstance(given, str) or len(given) > MAX_CLIENT_REQUEST_ID or "\x00" in given:
        raise InvalidParameter(
            f"client_request_id must be a string of at most {MAX_CLIENT_REQUEST_ID} characters "
            "(and no NUL)"
        )
    return orjson.dumps(value), given


def _deadline(timeout_s: float) -> TemporarilyUnavailable:
    error = TemporarilyUnavailable(f"The endpoint did not answer within {timeout_s:g} s")
    error.code = "DEADLINE_EXCEEDED"
    return error


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _get(headers: list[tuple[bytes, bytes]], name: str) -> str:
    wanted = name.encode()
    for key, value in headers:
        if key.lower() == wanted:
            return value.decode("latin-1")
    return ""
