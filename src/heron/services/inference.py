"""InferenceService: what the serving endpoints answered. The capture of requests into the
inference tables (written off the request path), the per-minute statistics, and reading both
back (by endpoint and time, by request id, by trace id)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

from heron.entities import Page
from heron.entities.serving import EndpointMinute, InferenceRecord
from heron.errors import InvalidParameter
from heron.services.access import Authorizer, authorize, listing
from heron.services.artifacts import PROXY_ROOT, ArtifactService
from heron.services.inference_capture import CaptureWriter, Exchange
from heron.services.serving_stats import MinuteStats
from heron.services.validation import check_max_results
from heron.store.serving import EndpointStore, InferenceQuery, InferenceStore

MAX_RECORDS = 1000  # records in one page
MAX_CLIENT_REQUEST_ID = 250  # the `client_request_id` a request body may carry


class InferenceService:
    def __init__(
        self,
        store: InferenceStore,
        endpoints: EndpointStore,
        artifacts: ArtifactService | None,
        authorizer: Authorizer,
        *,
        queue_limit: int = 20_000,
    ) -> None:
        self._store = store
        self._endpoints = endpoints
        self._artifacts = artifacts
        self._authorizer = authorizer
        self._stats = MinuteStats()
        self._writer = CaptureWriter(
            store, artifacts, self._stats, writer_id=uuid.uuid4().hex, queue_limit=queue_limit
        )

    # -- the request path (no I/O: queued and counted in memory) -----------------------------

    def capture(self, exchange: Exchange) -> bool:
        """Queues one exchange for its endpoint's inference table; False when the queue is
        full (the exchange is dropped and counted)."""
        return self._writer.put(exchange)

    def observe(
        self, endpoint_id: str, entity: str, version: str, status: int, latency_ms: float
    ) -> None:
        """Counts one answered request in its minute's statistics."""
        self._stats.request(endpoint_id, _now(), entity, version, status, latency_ms)

    def observe_shadow(
        self,
        endpoint_id: str,
        entity: str,
        version: str,
        *,
        ok: bool,
        agreed: bool,
        latency_diff_ms: float,
    ) -> None:
        """Counts one shadow request: whether it answered, agreed with the served answer,
        and how much slower (ms; negative: faster) it was."""
        self._stats.shadow(
            endpoint_id, _now(), entity, version, ok=ok, agreed=agreed,
            latency_diff_ms=latency_diff_ms,
        )  # fmt: skip

    @property
    def dropped(self) -> int:
        """Exchanges this process dropped because the capture queue was full."""
        return self._writer.dropped

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        self._writer.start()

    def flush(self) -> None:
        """Writes what is queued now (rows otherwise land within a fraction of a second)."""
        self._writer.flush()

    def close(self) -> None:
        """Writes everything queued, then stops: a graceful stop loses no captured record."""
        self._writer.close()

    # -- reading --------------------------------------------------------------------------

    def search_records(
        self,
        endpoint_name: str,
        *,
        start_time: int | None = None,
        end_time: int | None = None,
        max_results: int = 100,
        page_token: str | None = None,
    ) -> Page[InferenceRecord]:
        """The endpoint's records, newest first, between the times (ms) given."""
        authorize(self._authorizer, "read", "serving_endpoint", endpoint_name)
        check_max_results(max_results, MAX_RECORDS)
        endpoint = self._endpoints.get_endpoint(endpoint_name)
        query = InferenceQuery(
            endpoint_id=endpoint.endpoint_id, start_time=start_time, end_time=end_time,
            max_results=max_results, page_token=page_token,
        )  # fmt: skip
        return self._store.search_records(query)

    def all_records(
        self, endpoint_name: str, *, start_time: int | None = None, end_time: int | None = None
    ) -> Iterator[InferenceRecord]:
        """Every record of the endpoint in the time range, page by page (for exports)."""
        token = None
        while True:
            page = self.search_records(
                endpoint_name, start_time=start_time, end_time=end_time,
                max_results=MAX_RECORDS, page_token=token,
            )  # fmt: skip
            yield from page
            token = page.next_page_token
            if not token:
                return

    def get_record(self, request_id: str) -> InferenceRecord:
        record = self._store.get_record(request_id)
        authorize(self._authorizer, "read", "serving_endpoint", record.endpoint_name)
        return record

    def records_of_trace(self, trace_id: str) -> list[InferenceRecord]:
        """The inference records of the requests a trace recorded (usually one)."""
        visible = listing(self._authorizer, "serving_endpoint")
        return [r for r in self._store.records_of_trace(trace_id) if visible.shows(r.endpoint_name)]

    def read_body(self, request_id: str, part: str) -> Iterator[bytes]:
        """The request or response body of a record, kept inline or as an artifact."""
        if part not in ("request", "response"):
            raise InvalidParameter(f"part must be 'request' or 'response', got {part[:50]!r}")
        record = self.get_record(request_id)
        inline = record.request if part == "request" else record.response
        path = record.request_artifact if part == "request" else record.response_artifact
        if path is None or self._artifacts is None:
            return iter([(inline or "").encode()])
        return iter(self._artifacts.read_artifact(PROXY_ROOT, path))

    def minutes(self, endpoint_name: str, *, since: int) -> list[EndpointMinute]:
        """The endpoint's per-minute figures since `since` (ms), every process's added up."""
        authorize(self._authorizer, "read", "serving_endpoint", endpoint_name)
        endpoint = self._endpoints.get_endpoint(endpoint_name)
        return self._store.read_minutes(endpoint.endpoint_id, since)


def _now() -> int:
    return int(time.time() * 1000)
